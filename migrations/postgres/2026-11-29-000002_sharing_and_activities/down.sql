DROP TABLE activity_traces;
DROP TABLE activities;
DROP TABLE shares;
