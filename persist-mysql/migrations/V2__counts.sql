-- serenity-persist MySQL / MariaDB schema, version 2: object counts.
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

-- Objects stored before this version are counted once, here, in slot -1
-- (no connection's). Run again after an interrupted migration, it counts
-- everything afresh.
DELETE FROM persist_counts;
INSERT INTO persist_counts (kind, slot, n)
          SELECT 'channels', -1, COUNT(*) FROM channels WHERE is_thread = 0
UNION ALL SELECT 'threads',  -1, COUNT(*) FROM channels WHERE is_thread <> 0
UNION ALL SELECT 'guilds', -1, COUNT(*) FROM guilds
UNION ALL SELECT 'messages', -1, COUNT(*) FROM messages
UNION ALL SELECT 'users', -1, COUNT(*) FROM users
UNION ALL SELECT 'members', -1, COUNT(*) FROM members
UNION ALL SELECT 'roles', -1, COUNT(*) FROM roles
UNION ALL SELECT 'emojis', -1, COUNT(*) FROM emojis
UNION ALL SELECT 'stickers', -1, COUNT(*) FROM stickers
UNION ALL SELECT 'voice_states', -1, COUNT(*) FROM voice_states
UNION ALL SELECT 'presences', -1, COUNT(*) FROM presences
UNION ALL SELECT 'stage_instances', -1, COUNT(*) FROM stage_instances
UNION ALL SELECT 'scheduled_events', -1, COUNT(*) FROM scheduled_events
UNION ALL SELECT 'thread_members', -1, COUNT(*) FROM thread_members;

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
