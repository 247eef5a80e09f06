-- PostgreSQL's events keep room on their pages and leave unnumbered events
-- out of the position index; SQLite's position is the row's number and
-- has no such settings.
SELECT 1;
