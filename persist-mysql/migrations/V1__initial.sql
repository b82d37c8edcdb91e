-- serenity-persist MySQL / MariaDB schema, version 1.
-- One table per kind of object. Typed columns hold what reads filter or order
-- by; `data` holds the whole object as JSON (Discord's field names), so
-- JSON functions reach every field: JSON_VALUE(data, '$.content').
--
-- Snowflakes are BIGINT UNSIGNED: every 64-bit id compares and orders right.
-- Users are seen by every shard, so every process writes them: `seen_at`
-- (microseconds, the writing process's clock when it applied the batch)
-- keeps an older copy from replacing a newer one.
-- MySQL commits each DDL statement on its own: a migration interrupted
-- half-way is finished by the next open (every statement here is guarded).

CREATE TABLE IF NOT EXISTS persist_hooks (
    version    INT PRIMARY KEY,
    name       TEXT   NOT NULL,
    applied_at BIGINT NOT NULL -- microseconds since the Unix epoch
) ENGINE = InnoDB;

-- Which process writes each shard's guilds (see the crate's docs): a batch
-- commits only while the tokens its process took are still these.
CREATE TABLE IF NOT EXISTS persist_leases (
    shard_id    INT UNSIGNED PRIMARY KEY,
    shard_count INT UNSIGNED NOT NULL,
    owner       VARCHAR(200) NOT NULL,
    token       BIGINT       NOT NULL, -- grows on every takeover
    expires_at  DATETIME(6)  NOT NULL  -- the server's clock, UTC_TIMESTAMP(6)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS `current_user` (
    id BIGINT UNSIGNED PRIMARY KEY CHECK (id = 0), -- a single row
    user_id BIGINT UNSIGNED NOT NULL,
    data JSON NOT NULL
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS guilds (
    id BIGINT UNSIGNED PRIMARY KEY,
    name TEXT,
    data JSON NOT NULL
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS channels (
    id BIGINT UNSIGNED PRIMARY KEY,
    guild_id BIGINT UNSIGNED, -- NULL for DMs
    parent_id BIGINT UNSIGNED, -- category, or the parent of a thread
    kind INT NOT NULL, -- Discord's channel type
    is_thread INT NOT NULL, -- 1 for threads
    name TEXT,
    data JSON NOT NULL
) ENGINE = InnoDB;
CREATE INDEX IF NOT EXISTS channels_by_guild ON channels (guild_id, id);
CREATE INDEX IF NOT EXISTS channels_by_parent ON channels (parent_id);

CREATE TABLE IF NOT EXISTS messages (
    id BIGINT UNSIGNED PRIMARY KEY, -- ordering by id is ordering by creation time
    channel_id BIGINT UNSIGNED NOT NULL,
    guild_id BIGINT UNSIGNED, -- NULL in DMs
    author_id BIGINT UNSIGNED NOT NULL,
    data JSON NOT NULL
) ENGINE = InnoDB;
CREATE INDEX IF NOT EXISTS messages_by_channel ON messages (channel_id, id);
CREATE INDEX IF NOT EXISTS messages_by_guild ON messages (guild_id);

CREATE TABLE IF NOT EXISTS users (
    id BIGINT UNSIGNED PRIMARY KEY,
    username TEXT,
    seen_at BIGINT NOT NULL, -- see above
    data JSON NOT NULL
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS members (
    guild_id BIGINT UNSIGNED NOT NULL,
    user_id BIGINT UNSIGNED NOT NULL,
    nick TEXT,
    data JSON NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) ENGINE = InnoDB;
CREATE INDEX IF NOT EXISTS members_by_user ON members (user_id, guild_id);

CREATE TABLE IF NOT EXISTS roles (
    id BIGINT UNSIGNED PRIMARY KEY,
    guild_id BIGINT UNSIGNED NOT NULL,
    name TEXT,
    data JSON NOT NULL
) ENGINE = InnoDB;
CREATE INDEX IF NOT EXISTS roles_by_guild ON roles (guild_id, id);

CREATE TABLE IF NOT EXISTS emojis (
    id BIGINT UNSIGNED PRIMARY KEY,
    guild_id BIGINT UNSIGNED NOT NULL,
    name TEXT,
    data JSON NOT NULL
) ENGINE = InnoDB;
CREATE INDEX IF NOT EXISTS emojis_by_guild ON emojis (guild_id, id);

CREATE TABLE IF NOT EXISTS stickers (
    id BIGINT UNSIGNED PRIMARY KEY,
    guild_id BIGINT UNSIGNED, -- NULL for standard stickers
    name TEXT,
    data JSON NOT NULL
) ENGINE = InnoDB;
CREATE INDEX IF NOT EXISTS stickers_by_guild ON stickers (guild_id, id);

CREATE TABLE IF NOT EXISTS voice_states (
    guild_id BIGINT UNSIGNED NOT NULL,
    user_id BIGINT UNSIGNED NOT NULL,
    channel_id BIGINT UNSIGNED,
    data JSON NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS presences (
    guild_id BIGINT UNSIGNED NOT NULL,
    user_id BIGINT UNSIGNED NOT NULL,
    status TEXT,
    data JSON NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS stage_instances (
    id BIGINT UNSIGNED PRIMARY KEY,
    guild_id BIGINT UNSIGNED NOT NULL,
    channel_id BIGINT UNSIGNED NOT NULL,
    data JSON NOT NULL
) ENGINE = InnoDB;
CREATE INDEX IF NOT EXISTS stage_instances_by_guild ON stage_instances (guild_id, id);

CREATE TABLE IF NOT EXISTS scheduled_events (
    id BIGINT UNSIGNED PRIMARY KEY,
    guild_id BIGINT UNSIGNED NOT NULL,
    name TEXT,
    data JSON NOT NULL
) ENGINE = InnoDB;
CREATE INDEX IF NOT EXISTS scheduled_events_by_guild ON scheduled_events (guild_id, id);

CREATE TABLE IF NOT EXISTS thread_members (
    thread_id BIGINT UNSIGNED NOT NULL,
    user_id BIGINT UNSIGNED NOT NULL,
    data JSON NOT NULL,
    PRIMARY KEY (thread_id, user_id)
) ENGINE = InnoDB;
