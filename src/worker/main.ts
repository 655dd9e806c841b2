// Worker process entry (child_process.fork). Implemented in the engine/worker issue.
export {};
