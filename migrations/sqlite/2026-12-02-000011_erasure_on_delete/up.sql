-- SQLite twin of migrations/postgres (see there). SQLite has one writer at
-- a time, so the trigger is only for the rule to live in one place.
CREATE TRIGGER users_erase_events AFTER DELETE ON users FOR EACH ROW
BEGIN
    UPDATE events SET data = '{}' WHERE user_id = OLD.id AND data <> '{}';
END;
