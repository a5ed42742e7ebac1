-- Run once, when the data volume is new: the orchestrator's database, owned by the same role.
CREATE DATABASE orchestrator OWNER crossauth;
