-- Version 3: the number of objects of each kind, kept in `persist_counts`
-- by triggers in the same transaction as the rows, so counting the cache
-- reads 13 small rows instead of scanning every table (a scan grows with
-- the messages stored). Channels are counted apart from threads.
--
--   SELECT kind, n FROM persist_counts ORDER BY kind;

CREATE TABLE persist_counts (
    kind TEXT    PRIMARY KEY,
    n    INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO persist_counts (kind, n)
          SELECT 'channels', count(*) FROM channels WHERE is_thread = 0
UNION ALL SELECT 'threads',  count(*) FROM channels WHERE is_thread = 1
UNION ALL SELECT 'guilds', count(*) FROM guilds
UNION ALL SELECT 'messages', count(*) FROM messages
UNION ALL SELECT 'users', count(*) FROM users
UNION ALL SELECT 'members', count(*) FROM members
UNION ALL SELECT 'roles', count(*) FROM roles
UNION ALL SELECT 'emojis', count(*) FROM emojis
UNION ALL SELECT 'stickers', count(*) FROM stickers
UNION ALL SELECT 'voice_states', count(*) FROM voice_states
UNION ALL SELECT 'presences', count(*) FROM presences
UNION ALL SELECT 'stage_instances', count(*) FROM stage_instances
UNION ALL SELECT 'scheduled_events', count(*) FROM scheduled_events
UNION ALL SELECT 'thread_members', count(*) FROM thread_members;

CREATE TRIGGER channels_counted_in AFTER INSERT ON channels BEGIN
    UPDATE persist_counts SET n = n + 1
    WHERE kind = CASE NEW.is_thread WHEN 0 THEN 'channels' ELSE 'threads' END;
END;
CREATE TRIGGER channels_counted_out AFTER DELETE ON channels BEGIN
    UPDATE persist_counts SET n = n - 1
    WHERE kind = CASE OLD.is_thread WHEN 0 THEN 'channels' ELSE 'threads' END;
END;
CREATE TRIGGER channels_counted_moved AFTER UPDATE OF is_thread ON channels
WHEN (OLD.is_thread = 0) <> (NEW.is_thread = 0) BEGIN
    UPDATE persist_counts SET n = n - 1
    WHERE kind = CASE OLD.is_thread WHEN 0 THEN 'channels' ELSE 'threads' END;
    UPDATE persist_counts SET n = n + 1
    WHERE kind = CASE NEW.is_thread WHEN 0 THEN 'channels' ELSE 'threads' END;
END;

CREATE TRIGGER guilds_counted_in AFTER INSERT ON guilds BEGIN
    UPDATE persist_counts SET n = n + 1 WHERE kind = 'guilds';
END;
CREATE TRIGGER guilds_counted_out AFTER DELETE ON guilds BEGIN
    UPDATE persist_counts SET n = n - 1 WHERE kind = 'guilds';
END;

CREATE TRIGGER messages_counted_in AFTER INSERT ON messages BEGIN
    UPDATE persist_counts SET n = n + 1 WHERE kind = 'messages';
END;
CREATE TRIGGER messages_counted_out AFTER DELETE ON messages BEGIN
    UPDATE persist_counts SET n = n - 1 WHERE kind = 'messages';
END;

CREATE TRIGGER users_counted_in AFTER INSERT ON users BEGIN
    UPDATE persist_counts SET n = n + 1 WHERE kind = 'users';
END;
CREATE TRIGGER users_counted_out AFTER DELETE ON users BEGIN
    UPDATE persist_counts SET n = n - 1 WHERE kind = 'users';
END;

CREATE TRIGGER members_counted_in AFTER INSERT ON members BEGIN
    UPDATE persist_counts SET n = n + 1 WHERE kind = 'members';
END;
CREATE TRIGGER members_counted_out AFTER DELETE ON members BEGIN
    UPDATE persist_counts SET n = n - 1 WHERE kind = 'members';
END;

CREATE TRIGGER roles_counted_in AFTER INSERT ON roles BEGIN
    UPDATE persist_counts SET n = n + 1 WHERE kind = 'roles';
END;
CREATE TRIGGER roles_counted_out AFTER DELETE ON roles BEGIN
    UPDATE persist_counts SET n = n - 1 WHERE kind = 'roles';
END;

CREATE TRIGGER emojis_counted_in AFTER INSERT ON emojis BEGIN
    UPDATE persist_counts SET n = n + 1 WHERE kind = 'emojis';
END;
CREATE TRIGGER emojis_counted_out AFTER DELETE ON emojis BEGIN
    UPDATE persist_counts SET n = n - 1 WHERE kind = 'emojis';
END;

CREATE TRIGGER stickers_counted_in AFTER INSERT ON stickers BEGIN
    UPDATE persist_counts SET n = n + 1 WHERE kind = 'stickers';
END;
CREATE TRIGGER stickers_counted_out AFTER DELETE ON stickers BEGIN
    UPDATE persist_counts SET n = n - 1 WHERE kind = 'stickers';
END;

CREATE TRIGGER voice_states_counted_in AFTER INSERT ON voice_states BEGIN
    UPDATE persist_counts SET n = n + 1 WHERE kind = 'voice_states';
END;
CREATE TRIGGER voice_states_counted_out AFTER DELETE ON voice_states BEGIN
    UPDATE persist_counts SET n = n - 1 WHERE kind = 'voice_states';
END;

CREATE TRIGGER presences_counted_in AFTER INSERT ON presences BEGIN
    UPDATE persist_counts SET n = n + 1 WHERE kind = 'presences';
END;
CREATE TRIGGER presences_counted_out AFTER DELETE ON presences BEGIN
    UPDATE persist_counts SET n = n - 1 WHERE kind = 'presences';
END;

CREATE TRIGGER stage_instances_counted_in AFTER INSERT ON stage_instances BEGIN
    UPDATE persist_counts SET n = n + 1 WHERE kind = 'stage_instances';
END;
CREATE TRIGGER stage_instances_counted_out AFTER DELETE ON stage_instances BEGIN
    UPDATE persist_counts SET n = n - 1 WHERE kind = 'stage_instances';
END;

CREATE TRIGGER scheduled_events_counted_in AFTER INSERT ON scheduled_events BEGIN
    UPDATE persist_counts SET n = n + 1 WHERE kind = 'scheduled_events';
END;
CREATE TRIGGER scheduled_events_counted_out AFTER DELETE ON scheduled_events BEGIN
    UPDATE persist_counts SET n = n - 1 WHERE kind = 'scheduled_events';
END;

CREATE TRIGGER thread_members_counted_in AFTER INSERT ON thread_members BEGIN
    UPDATE persist_counts SET n = n + 1 WHERE kind = 'thread_members';
END;
CREATE TRIGGER thread_members_counted_out AFTER DELETE ON thread_members BEGIN
    UPDATE persist_counts SET n = n - 1 WHERE kind = 'thread_members';
END;
