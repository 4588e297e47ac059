-- feed_ack holds the last value each marketplace acknowledged (see feeds/ackstore): stock per
-- (channel, offer, marketplace warehouse) with kind 1, price per (channel, offer) with kind 2 and
-- an empty warehouse. Losing a row only makes the value be sent again.
CREATE TABLE feed_ack (
    channel    text        NOT NULL,
    kind       smallint    NOT NULL CHECK (kind IN (1, 2)),
    offer      text        NOT NULL,
    warehouse  text        NOT NULL DEFAULT '',
    qty        bigint      NOT NULL DEFAULT 0 CHECK (qty >= 0),
    price      bigint      NOT NULL DEFAULT 0 CHECK (price >= 0),
    old_price  bigint      NOT NULL DEFAULT 0 CHECK (old_price >= 0),
    acked_at   timestamptz NOT NULL,
    PRIMARY KEY (channel, kind, offer, warehouse)
);
