-- The transactional outbox: events written in the same transaction as the state change
-- that causes them, published by the relay with Nats-Msg-Id = id.
CREATE TABLE kit_outbox (
    seq          bigserial PRIMARY KEY,
    id           uuid NOT NULL UNIQUE,
    subject      text NOT NULL,
    payload      bytea NOT NULL,
    headers      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX kit_outbox_pending ON kit_outbox (seq) WHERE published_at IS NULL;

-- The idempotent inbox: a message id handled by a consumer is recorded in the same
-- transaction as its effect, so a redelivery changes nothing.
CREATE TABLE kit_inbox (
    consumer    text NOT NULL,
    message_id  text NOT NULL,
    subject     text NOT NULL,
    stream_seq  bigint NOT NULL,
    handled_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);
