-- docker-compose: a separate database for `payments demo`, so the demo never
-- touches the database the long-running `runner` service works on.
CREATE DATABASE payments_demo;
