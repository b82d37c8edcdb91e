-- serenity-persist PostgreSQL schema, version 1.
-- One table per kind of object. Typed columns hold what reads filter or order
-- by; `data` holds the whole object as json (Discord's field names), so
-- PostgreSQL's JSON operators reach every field: data ->> 'content'. It is
-- `json`, not `jsonb`: jsonb cannot hold the character U+0000, which
-- message content may carry, and json stores the text as written (cast to
-- jsonb in a query to index or compare objects).
--
-- Snowflakes are `snowflake`, numeric(20) limited to 0 .. 2^64 - 1: every
-- Discord id compares and orders right in SQL (bigint stops at 2^63 - 1).

CREATE DOMAIN snowflake AS numeric(20, 0)
    CHECK (VALUE >= 0 AND VALUE <= 18446744073709551615);

CREATE TABLE persist_hooks (
    version    integer PRIMARY KEY,
    name       text    NOT NULL,
    applied_at bigint  NOT NULL -- microseconds since the Unix epoch
);

-- Which process writes each shard's guilds (see the crate's docs): a batch
-- commits only while the tokens its process took are still these.
CREATE TABLE persist_leases (
    shard_id    integer     PRIMARY KEY,
    shard_count integer     NOT NULL,
    owner       text        NOT NULL,
    token       bigint      NOT NULL, -- grows on every takeover
    expires_at  timestamptz NOT NULL  -- the database's clock
);

CREATE TABLE "current_user" (
    id      snowflake PRIMARY KEY CHECK (id = 0), -- a single row
    user_id snowflake NOT NULL,
    data    json      NOT NULL
);

CREATE TABLE guilds (
    id   snowflake PRIMARY KEY,
    name text,
    data json NOT NULL
);

CREATE TABLE channels (
    id        snowflake PRIMARY KEY,
    guild_id  snowflake,          -- NULL for DMs
    parent_id snowflake,          -- category, or the parent of a thread
    kind      integer NOT NULL,   -- Discord's channel type
    is_thread integer NOT NULL,   -- 1 for threads
    name      text,
    data      json NOT NULL
);
CREATE INDEX channels_by_guild ON channels (guild_id, id);
CREATE INDEX channels_by_parent ON channels (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE messages (
    id         snowflake PRIMARY KEY, -- ordering by id is ordering by creation time
    channel_id snowflake NOT NULL,
    guild_id   snowflake,             -- NULL in DMs
    author_id  snowflake NOT NULL,
    data       json NOT NULL
);
CREATE INDEX messages_by_channel ON messages (channel_id, id);
CREATE INDEX messages_by_guild ON messages (guild_id) WHERE guild_id IS NOT NULL;

-- Users are seen by every shard, so every process writes them: `seen_at`
-- (microseconds, the writing process's clock when it applied the batch)
-- keeps an older copy from replacing a newer one.
CREATE TABLE users (
    id       snowflake PRIMARY KEY,
    username text,
    seen_at  bigint NOT NULL,
    data     json NOT NULL
);

CREATE TABLE members (
    guild_id snowflake NOT NULL,
    user_id  snowflake NOT NULL,
    nick     text,
    data     json NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id, guild_id);

CREATE TABLE roles (
    id       snowflake PRIMARY KEY,
    guild_id snowflake NOT NULL,
    name     text,
    data     json NOT NULL
);
CREATE INDEX roles_by_guild ON roles (guild_id, id);

CREATE TABLE emojis (
    id       snowflake PRIMARY KEY,
    guild_id snowflake NOT NULL,
    name     text,
    data     json NOT NULL
);
CREATE INDEX emojis_by_guild ON emojis (guild_id, id);

CREATE TABLE stickers (
    id       snowflake PRIMARY KEY,
    guild_id snowflake,           -- NULL for standard stickers
    name     text,
    data     json NOT NULL
);
CREATE INDEX stickers_by_guild ON stickers (guild_id, id);

CREATE TABLE voice_states (
    guild_id   snowflake NOT NULL,
    user_id    snowflake NOT NULL,
    channel_id snowflake,
    data       json NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

CREATE TABLE presences (
    guild_id snowflake NOT NULL,
    user_id  snowflake NOT NULL,
    status   text,
    data     json NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

CREATE TABLE stage_instances (
    id         snowflake PRIMARY KEY,
    guild_id   snowflake NOT NULL,
    channel_id snowflake NOT NULL,
    data       json NOT NULL
);
CREATE INDEX stage_instances_by_guild ON stage_instances (guild_id, id);

CREATE TABLE scheduled_events (
    id       snowflake PRIMARY KEY,
    guild_id snowflake NOT NULL,
    name     text,
    data     json NOT NULL
);
CREATE INDEX scheduled_events_by_guild ON scheduled_events (guild_id, id);

CREATE TABLE thread_members (
    thread_id snowflake NOT NULL,
    user_id   snowflake NOT NULL,
    data      json NOT NULL,
    PRIMARY KEY (thread_id, user_id)
);
