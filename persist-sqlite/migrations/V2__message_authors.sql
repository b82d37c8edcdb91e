-- Version 2: messages get a typed author column (filled from the JSON of
-- messages stored under version 1) and an index for "messages by author".

ALTER TABLE messages ADD COLUMN author_id INTEGER;
UPDATE messages SET author_id = CAST(data ->> '$.author.id' AS INTEGER);
CREATE INDEX messages_by_author ON messages (author_id, id) WHERE author_id IS NOT NULL;
