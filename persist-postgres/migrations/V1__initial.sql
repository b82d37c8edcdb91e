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

-- The number of objects of each kind, kept by statement triggers in the
-- rows' own transactions, so counting reads a few rows at any size:
--
--   SELECT kind, sum(n) FROM persist_counts GROUP BY kind ORDER BY kind;
--
-- Each connection adds to its own slot (its backend pid modulo 64), so two
-- processes' batches do not wait on one counter row.
CREATE TABLE persist_counts (
    kind text    NOT NULL,
    slot integer NOT NULL,
    n    bigint  NOT NULL,
    PRIMARY KEY (kind, slot)
);

CREATE FUNCTION persist_count_add(counted_kind text, delta bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO persist_counts (kind, slot, n)
    SELECT counted_kind, pg_backend_pid() % 64, delta WHERE delta <> 0
    ON CONFLICT (kind, slot) DO UPDATE SET n = persist_counts.n + excluded.n;
$$;

-- TG_ARGV[0]: the kind counted.
CREATE FUNCTION persist_counted_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM persist_count_add(TG_ARGV[0], (SELECT count(*) FROM new_rows));
    RETURN NULL;
END $$;

CREATE FUNCTION persist_counted_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM persist_count_add(TG_ARGV[0], -(SELECT count(*) FROM old_rows));
    RETURN NULL;
END $$;

-- Channels and threads are counted apart; an update may move one across.
CREATE FUNCTION persist_channels_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM persist_count_add('channels', (SELECT count(*) FROM new_rows WHERE is_thread = 0));
        PERFORM persist_count_add('threads', (SELECT count(*) FROM new_rows WHERE is_thread <> 0));
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM persist_count_add('channels', -(SELECT count(*) FROM old_rows WHERE is_thread = 0));
        PERFORM persist_count_add('threads', -(SELECT count(*) FROM old_rows WHERE is_thread <> 0));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER channels_counted_in AFTER INSERT ON channels
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_channels_counted();
CREATE TRIGGER channels_counted_out AFTER DELETE ON channels
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_channels_counted();
CREATE TRIGGER channels_counted_moved AFTER UPDATE ON channels
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION persist_channels_counted();

CREATE TRIGGER guilds_counted_in AFTER INSERT ON guilds
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_in('guilds');
CREATE TRIGGER guilds_counted_out AFTER DELETE ON guilds
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_out('guilds');

CREATE TRIGGER messages_counted_in AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_in('messages');
CREATE TRIGGER messages_counted_out AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_out('messages');

CREATE TRIGGER users_counted_in AFTER INSERT ON users
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_in('users');
CREATE TRIGGER users_counted_out AFTER DELETE ON users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_out('users');

CREATE TRIGGER members_counted_in AFTER INSERT ON members
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_in('members');
CREATE TRIGGER members_counted_out AFTER DELETE ON members
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_out('members');

CREATE TRIGGER roles_counted_in AFTER INSERT ON roles
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_in('roles');
CREATE TRIGGER roles_counted_out AFTER DELETE ON roles
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_out('roles');

CREATE TRIGGER emojis_counted_in AFTER INSERT ON emojis
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_in('emojis');
CREATE TRIGGER emojis_counted_out AFTER DELETE ON emojis
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_out('emojis');

CREATE TRIGGER stickers_counted_in AFTER INSERT ON stickers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_in('stickers');
CREATE TRIGGER stickers_counted_out AFTER DELETE ON stickers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_out('stickers');

CREATE TRIGGER voice_states_counted_in AFTER INSERT ON voice_states
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_in('voice_states');
CREATE TRIGGER voice_states_counted_out AFTER DELETE ON voice_states
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_out('voice_states');

CREATE TRIGGER presences_counted_in AFTER INSERT ON presences
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_in('presences');
CREATE TRIGGER presences_counted_out AFTER DELETE ON presences
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_out('presences');

CREATE TRIGGER stage_instances_counted_in AFTER INSERT ON stage_instances
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_in('stage_instances');
CREATE TRIGGER stage_instances_counted_out AFTER DELETE ON stage_instances
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_out('stage_instances');

CREATE TRIGGER scheduled_events_counted_in AFTER INSERT ON scheduled_events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_in('scheduled_events');
CREATE TRIGGER scheduled_events_counted_out AFTER DELETE ON scheduled_events
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_out('scheduled_events');

CREATE TRIGGER thread_members_counted_in AFTER INSERT ON thread_members
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_in('thread_members');
CREATE TRIGGER thread_members_counted_out AFTER DELETE ON thread_members
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION persist_counted_out('thread_members');
