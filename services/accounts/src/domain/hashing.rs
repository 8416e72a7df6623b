//! argon2id runs on a few threads of the process's own, never on tokio's blocking pool.
//!
//! Each hash takes a 19 MiB block. On the blocking pool, whose threads come and go, glibc's
//! allocator kept the freed blocks in many per-thread arenas: accounts grew to about 1 GiB
//! resident under a backlog (BENCHMARKS.md, 2026-12-04). A fixed set of threads, each hashing
//! one password at a time, keeps what the allocator holds to about one block per thread.
//! Callers are bounded already (the sign-in gate, the cases consumer's concurrency), so the
//! queue in front of the threads is short.

use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads: as many as the machine has cores.
fn threads() -> &'static Sender<Job> {
    static JOBS: OnceLock<Sender<Job>> = OnceLock::new();
    JOBS.get_or_init(|| {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let count = std::thread::available_parallelism().map_or(2, |n| n.get());
        for i in 0..count {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("argon2id-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .expect("a hashing thread");
        }
        jobs
    })
}

#[derive(Debug, thiserror::Error)]
#[error("the password hashing threads are not running")]
pub struct HashingStopped;

/// Runs `work` (a hash or a verification) on a hashing thread and waits for it.
pub async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HashingStopped> {
    let (answer, answered) = tokio::sync::oneshot::channel();
    threads()
        .send(Box::new(move || {
            let _ = answer.send(work());
        }))
        .map_err(|_| HashingStopped)?;
    answered.await.map_err(|_| HashingStopped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_a_hashing_thread_and_its_answer_comes_back() {
        let name = off_thread(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.is_some_and(|n| n.starts_with("argon2id-")));
        let waiting: Vec<_> = (0..16)
            .map(|i| tokio::spawn(off_thread(move || i * 2)))
            .collect();
        for (i, answer) in waiting.into_iter().enumerate() {
            assert_eq!(answer.await.unwrap().unwrap(), i * 2);
        }
    }
}
