-- serenity-persist SQLite schema, version 1.
-- One table per kind of object. Typed columns hold what reads filter or order
-- by; `data` holds the whole object as JSON (Discord's field names), so
-- sqlite3's JSON functions can reach every field.
-- Ids are Discord snowflakes stored as INTEGER (they fit below 2^63).

CREATE TABLE persist_hooks (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL -- microseconds since the Unix epoch
);

CREATE TABLE current_user (
    id      INTEGER PRIMARY KEY CHECK (id = 0), -- a single row
    user_id INTEGER NOT NULL,
    data    TEXT    NOT NULL
);

CREATE TABLE guilds (
    id   INTEGER PRIMARY KEY,
    name TEXT,
    data TEXT NOT NULL
);

CREATE TABLE channels (
    id        INTEGER PRIMARY KEY,
    guild_id  INTEGER,           -- NULL for DMs
    parent_id INTEGER,           -- category, or the parent of a thread
    kind      INTEGER NOT NULL,  -- Discord's channel type
    is_thread INTEGER NOT NULL,  -- 1 for threads
    name      TEXT,
    data      TEXT NOT NULL
);
CREATE INDEX channels_by_guild ON channels (guild_id, id);
CREATE INDEX channels_by_parent ON channels (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY, -- ordering by id is ordering by creation time
    channel_id INTEGER NOT NULL,
    guild_id   INTEGER,             -- NULL in DMs
    data       TEXT    NOT NULL
);
CREATE INDEX messages_by_channel ON messages (channel_id, id);
CREATE INDEX messages_by_guild ON messages (guild_id) WHERE guild_id IS NOT NULL;

CREATE TABLE users (
    id       INTEGER PRIMARY KEY,
    username TEXT,
    data     TEXT NOT NULL
);

CREATE TABLE members (
    guild_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    nick     TEXT,
    data     TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_by_user ON members (user_id, guild_id);

CREATE TABLE roles (
    id       INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    name     TEXT,
    data     TEXT NOT NULL
);
CREATE INDEX roles_by_guild ON roles (guild_id, id);

CREATE TABLE emojis (
    id       INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    name     TEXT,
    data     TEXT NOT NULL
);
CREATE INDEX emojis_by_guild ON emojis (guild_id, id);

CREATE TABLE stickers (
    id       INTEGER PRIMARY KEY,
    guild_id INTEGER,            -- NULL for standard stickers
    name     TEXT,
    data     TEXT NOT NULL
);
CREATE INDEX stickers_by_guild ON stickers (guild_id, id);

CREATE TABLE voice_states (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    channel_id INTEGER,
    data       TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;

CREATE TABLE presences (
    guild_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    status   TEXT,
    data     TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;

CREATE TABLE stage_instances (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX stage_instances_by_guild ON stage_instances (guild_id, id);

CREATE TABLE scheduled_events (
    id       INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    name     TEXT,
    data     TEXT NOT NULL
);
CREATE INDEX scheduled_events_by_guild ON scheduled_events (guild_id, id);

CREATE TABLE thread_members (
    thread_id INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    data      TEXT NOT NULL,
    PRIMARY KEY (thread_id, user_id)
) WITHOUT ROWID;
