DROP TRIGGER users_erase_events;
