-- First start of the deployment's Postgres: the databases beside `warehouse` (POSTGRES_DB).
create database airflow;
create database metabase;
