-- serenity-persist MySQL / MariaDB schema, version 1.
-- One table per kind of object. Typed columns hold what reads filter or order
-- by; `data` holds the whole object as JSON (Discord's field names), so
-- JSON functions reach every field: data ->> '$.content'.
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

-- The number of objects of each kind, kept by triggers in the rows' own
-- transactions: SELECT kind, SUM(n) FROM persist_counts GROUP BY kind;
-- Each connection adds to its own slot (its id modulo 64), so two
-- processes' batches do not wait on one counter row.
CREATE TABLE IF NOT EXISTS persist_counts (
    kind VARCHAR(32) NOT NULL,
    slot INT         NOT NULL,
    n    BIGINT      NOT NULL,
    PRIMARY KEY (kind, slot)
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

CREATE TRIGGER IF NOT EXISTS guilds_counted_in AFTER INSERT ON guilds FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('guilds', CONNECTION_ID() % 64, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
CREATE TRIGGER IF NOT EXISTS guilds_counted_out AFTER DELETE ON guilds FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('guilds', CONNECTION_ID() % 64, -1)
    ON DUPLICATE KEY UPDATE n = n - 1;
CREATE TRIGGER IF NOT EXISTS messages_counted_in AFTER INSERT ON messages FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('messages', CONNECTION_ID() % 64, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
CREATE TRIGGER IF NOT EXISTS messages_counted_out AFTER DELETE ON messages FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('messages', CONNECTION_ID() % 64, -1)
    ON DUPLICATE KEY UPDATE n = n - 1;
CREATE TRIGGER IF NOT EXISTS users_counted_in AFTER INSERT ON users FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('users', CONNECTION_ID() % 64, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
CREATE TRIGGER IF NOT EXISTS users_counted_out AFTER DELETE ON users FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('users', CONNECTION_ID() % 64, -1)
    ON DUPLICATE KEY UPDATE n = n - 1;
CREATE TRIGGER IF NOT EXISTS members_counted_in AFTER INSERT ON members FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('members', CONNECTION_ID() % 64, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
CREATE TRIGGER IF NOT EXISTS members_counted_out AFTER DELETE ON members FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('members', CONNECTION_ID() % 64, -1)
    ON DUPLICATE KEY UPDATE n = n - 1;
CREATE TRIGGER IF NOT EXISTS roles_counted_in AFTER INSERT ON roles FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('roles', CONNECTION_ID() % 64, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
CREATE TRIGGER IF NOT EXISTS roles_counted_out AFTER DELETE ON roles FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('roles', CONNECTION_ID() % 64, -1)
    ON DUPLICATE KEY UPDATE n = n - 1;
CREATE TRIGGER IF NOT EXISTS emojis_counted_in AFTER INSERT ON emojis FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('emojis', CONNECTION_ID() % 64, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
CREATE TRIGGER IF NOT EXISTS emojis_counted_out AFTER DELETE ON emojis FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('emojis', CONNECTION_ID() % 64, -1)
    ON DUPLICATE KEY UPDATE n = n - 1;
CREATE TRIGGER IF NOT EXISTS stickers_counted_in AFTER INSERT ON stickers FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('stickers', CONNECTION_ID() % 64, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
CREATE TRIGGER IF NOT EXISTS stickers_counted_out AFTER DELETE ON stickers FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('stickers', CONNECTION_ID() % 64, -1)
    ON DUPLICATE KEY UPDATE n = n - 1;
CREATE TRIGGER IF NOT EXISTS voice_states_counted_in AFTER INSERT ON voice_states FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('voice_states', CONNECTION_ID() % 64, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
CREATE TRIGGER IF NOT EXISTS voice_states_counted_out AFTER DELETE ON voice_states FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('voice_states', CONNECTION_ID() % 64, -1)
    ON DUPLICATE KEY UPDATE n = n - 1;
CREATE TRIGGER IF NOT EXISTS presences_counted_in AFTER INSERT ON presences FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('presences', CONNECTION_ID() % 64, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
CREATE TRIGGER IF NOT EXISTS presences_counted_out AFTER DELETE ON presences FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('presences', CONNECTION_ID() % 64, -1)
    ON DUPLICATE KEY UPDATE n = n - 1;
CREATE TRIGGER IF NOT EXISTS stage_instances_counted_in AFTER INSERT ON stage_instances FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('stage_instances', CONNECTION_ID() % 64, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
CREATE TRIGGER IF NOT EXISTS stage_instances_counted_out AFTER DELETE ON stage_instances FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('stage_instances', CONNECTION_ID() % 64, -1)
    ON DUPLICATE KEY UPDATE n = n - 1;
CREATE TRIGGER IF NOT EXISTS scheduled_events_counted_in AFTER INSERT ON scheduled_events FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('scheduled_events', CONNECTION_ID() % 64, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
CREATE TRIGGER IF NOT EXISTS scheduled_events_counted_out AFTER DELETE ON scheduled_events FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('scheduled_events', CONNECTION_ID() % 64, -1)
    ON DUPLICATE KEY UPDATE n = n - 1;
CREATE TRIGGER IF NOT EXISTS thread_members_counted_in AFTER INSERT ON thread_members FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('thread_members', CONNECTION_ID() % 64, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
CREATE TRIGGER IF NOT EXISTS thread_members_counted_out AFTER DELETE ON thread_members FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n) VALUES ('thread_members', CONNECTION_ID() % 64, -1)
    ON DUPLICATE KEY UPDATE n = n - 1;
-- Channels and threads are counted apart; an update may move one across.
CREATE TRIGGER IF NOT EXISTS channels_counted_in AFTER INSERT ON channels FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n)
    VALUES (IF(NEW.is_thread = 0, 'channels', 'threads'), CONNECTION_ID() % 64, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
CREATE TRIGGER IF NOT EXISTS channels_counted_out AFTER DELETE ON channels FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n)
    VALUES (IF(OLD.is_thread = 0, 'channels', 'threads'), CONNECTION_ID() % 64, -1)
    ON DUPLICATE KEY UPDATE n = n - 1;
CREATE TRIGGER IF NOT EXISTS channels_counted_moved AFTER UPDATE ON channels FOR EACH ROW
    INSERT INTO persist_counts (kind, slot, n)
    VALUES (IF(OLD.is_thread = 0, 'channels', 'threads'), CONNECTION_ID() % 64, -1),
           (IF(NEW.is_thread = 0, 'channels', 'threads'), CONNECTION_ID() % 64, 1)
    ON DUPLICATE KEY UPDATE n = n + VALUES(n);
