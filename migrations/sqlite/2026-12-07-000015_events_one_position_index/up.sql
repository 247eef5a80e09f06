-- PostgreSQL's events trade two partial indexes and `seq`'s key for one
-- index; SQLite's position is the row's number, with no sequencer and no
-- unnumbered events.
SELECT 1;
