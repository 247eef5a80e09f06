-- C4's erasure: deleting a user blanks the data of its events, in the
-- deleting transaction, whatever deletes it. A trigger, not a part of the
-- deleting statement: at READ COMMITTED a statement's parts share the
-- snapshot it took when it began, so a deletion that waited on the user's
-- row (a concurrent update, which then commits its `user.updated` with the
-- new names) would not see that event. The trigger's function is volatile,
-- so its UPDATE takes a fresh snapshot after the row is deleted, and sees
-- every event committed by then; a writer still to come needs the row,
-- which is gone.
CREATE FUNCTION steward_erase_events() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    UPDATE events SET data = '{}' WHERE user_id = OLD.id AND data <> '{}';
    RETURN NULL;
END
$$;
CREATE TRIGGER users_erase_events AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION steward_erase_events();
