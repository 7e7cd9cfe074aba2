// Preloaded into Node engines (`node --import <this>`): exits when the worker that spawned the
// engine is gone (killed with SIGKILL, say), so an orphaned engine never keeps training beside
// the run's next attempt. Linux re-parents an orphan, which changes process.ppid.
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid !== parent) process.exit(137);
}, 500);
timer.unref();
