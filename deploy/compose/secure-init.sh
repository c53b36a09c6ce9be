#!/bin/sh
# One-shot, run by deploy/compose/secure.yml before Kafka and PostgreSQL start: a CA and one
# server certificate (for both servers, by their Compose host names), Kafka's PEM key store, the
# admin's client properties for the broker's healthcheck, PostgreSQL's key and pg_hba.conf (TLS
# and scram only). Made once into the `secure` volume; passwords come from the environment.
set -eu
: "${KEEPWORD_KAFKA_PASSWORD_ADMIN:?}"
dir=/secure
if [ ! -f "$dir/ca.crt" ]; then
  mkdir -p "$dir/kafka" "$dir/postgres"
  cd "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=Keepword Compose CA" \
    -keyout ca.key -out ca.crt \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=keepword-broker" -keyout server.key -out server.csr
  printf '%s\n' "subjectAltName=DNS:kafka,DNS:postgres,DNS:localhost,IP:127.0.0.1" \
    "extendedKeyUsage=serverAuth,clientAuth" > server.ext
  openssl x509 -req -in server.csr -days 825 -CA ca.crt -CAkey ca.key -CAcreateserial \
    -extfile server.ext -out server.crt
  # Kafka's PEM key store: the unencrypted PKCS#8 key, then the certificate.
  cat server.key server.crt > kafka/broker.pem
  cp server.crt server.key postgres/
  rm -f ca.key server.csr server.ext
fi
# Rewritten on every run: the admin's password may have changed in the environment.
cat > "$dir/kafka/admin.properties" <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="keepword-admin" password="${KEEPWORD_KAFKA_PASSWORD_ADMIN}";
ssl.truststore.type=PEM
ssl.truststore.location=/secure/ca.crt
PROPERTIES
printf '%s\n' "local all all trust" "hostssl all all all scram-sha-256" > "$dir/postgres/pg_hba.conf"
# The images' own users: Kafka runs as 1000 (appuser), PostgreSQL as 999; the services read ca.crt.
chown -R 1000:1000 "$dir/kafka" && chmod 600 "$dir/kafka/broker.pem" "$dir/kafka/admin.properties"
chown -R 999:999 "$dir/postgres" && chmod 600 "$dir/postgres/server.key"
chmod 644 "$dir/ca.crt"
rm -f "$dir/server.key"
