UPDATE access_log SET actor_id = NULL
WHERE actor_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = access_log.actor_id);
ALTER TABLE access_log
    ADD CONSTRAINT access_log_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES users (id) ON DELETE SET NULL;
