DROP TRIGGER users_erase_events ON users;
DROP FUNCTION steward_erase_events();
