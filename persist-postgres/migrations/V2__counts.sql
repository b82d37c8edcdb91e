-- serenity-persist PostgreSQL schema, version 2: object counts.
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

-- Objects stored before this version are counted once, here, in slot -1
-- (no connection's).
INSERT INTO persist_counts (kind, slot, n)
          SELECT 'channels', -1, count(*) FROM channels WHERE is_thread = 0
UNION ALL SELECT 'threads',  -1, count(*) FROM channels WHERE is_thread <> 0
UNION ALL SELECT 'guilds', -1, count(*) FROM guilds
UNION ALL SELECT 'messages', -1, count(*) FROM messages
UNION ALL SELECT 'users', -1, count(*) FROM users
UNION ALL SELECT 'members', -1, count(*) FROM members
UNION ALL SELECT 'roles', -1, count(*) FROM roles
UNION ALL SELECT 'emojis', -1, count(*) FROM emojis
UNION ALL SELECT 'stickers', -1, count(*) FROM stickers
UNION ALL SELECT 'voice_states', -1, count(*) FROM voice_states
UNION ALL SELECT 'presences', -1, count(*) FROM presences
UNION ALL SELECT 'stage_instances', -1, count(*) FROM stage_instances
UNION ALL SELECT 'scheduled_events', -1, count(*) FROM scheduled_events
UNION ALL SELECT 'thread_members', -1, count(*) FROM thread_members;

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
