#!/usr/bin/env bash
# Prints random passwords for deploy/compose/secure.yml, one per Kafka principal and one for
# PostgreSQL, and a link secret:
#   deploy/compose/make-secure-env.sh > .env.secure   (keep it out of version control)
set -euo pipefail
password() { openssl rand -base64 24 | tr -d '/+='; }
for user in ADMIN INTAKE COMMITMENTS ESCALATION NOTIFIER INSIGHTS; do
  echo "KEEPWORD_KAFKA_PASSWORD_${user}=$(password)"
done
echo "KEEPWORD_POSTGRES_PASSWORD=$(password)"
echo "KEEPWORD_LINK_SECRET=$(openssl rand -base64 48 | tr -d '\n')"
