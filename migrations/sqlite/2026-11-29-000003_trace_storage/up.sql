-- Nothing to do on SQLite: it stores blobs as they are. (The folder exists so both backends have the same migrations.)
SELECT 1;
