-- The mailbox connector's place in each folder it reads: the last UID taken in (published, or
-- set aside) under the folder's UIDVALIDITY. A new UIDVALIDITY means the folder is read again
-- from its start (Message-IDs keep the events the same).
CREATE TABLE mailbox_positions (
    mailbox      text NOT NULL,            -- the [[mailbox]] table's name
    folder       text NOT NULL,
    uidvalidity  bigint NOT NULL,
    last_uid     bigint NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mailbox, folder)
);

-- Messages the connector could not take in (unreadable, refused by the contract, too large):
-- where they are and why, never their content or addresses.
CREATE TABLE mailbox_set_aside (
    mailbox      text NOT NULL,
    folder       text NOT NULL,
    uidvalidity  bigint NOT NULL,
    uid          bigint NOT NULL,
    reason       text NOT NULL,
    set_aside_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mailbox, folder, uidvalidity, uid)
);
