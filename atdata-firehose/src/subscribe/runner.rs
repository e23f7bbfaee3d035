//! The consumer side: an async stream, a blocking iterator, and callback runners (one at a
//! time, or N workers with each account's events in order on one worker).

use std::collections::hash_map::DefaultHasher;
use std::future::Future;
use std::hash::{Hash as _, Hasher as _};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::warn;

use super::connection::{Envelope, Shared, Stats};
use super::SubscribeError;

/// Asks a running subscription to stop: the socket closes, the cursor is saved, and the
/// stream ends (after the items already received) or the runner returns.
#[derive(Debug, Clone)]
pub struct StopHandle(pub(crate) Arc<watch::Sender<bool>>);

impl StopHandle {
    /// Asks the subscription to stop.
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

/// What an item is partitioned by in [`Events::run_parallel`]: items with the same key go to
/// the same worker, in order.
pub trait PartitionKey {
    /// The key (an account's DID), or `None` for items that go to the first worker.
    fn partition_key(&self) -> Option<&str>;
}

/// A running subscription, as a [`Stream`] of items.
///
/// An item counts as handled (and the cursor may move past it) when the next one is asked
/// for; [`Events::close`] marks the last one handled too. Dropping the stream stops the
/// subscription and saves the cursor, the last item not counted as handled.
///
/// Memory: at most `capacity` items wait between the socket and the consumer, each at most
/// [`Limits::max_message`](crate::Limits::max_message) bytes (5 MB by default) of event data,
/// so the buffer holds at most `capacity × max_message` bytes.
#[derive(Debug)]
pub struct Events<T> {
    pub(crate) rx: mpsc::Receiver<Envelope<T>>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) stop: StopHandle,
    pub(crate) task: Option<JoinHandle<()>>,
    pub(crate) last: Option<i64>,
}

impl<T> Events<T> {
    /// The subscription's counters (connects, connection errors, invalid items, …).
    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }

    /// The highest seq below which every event has been handled.
    pub fn cursor(&self) -> Option<i64> {
        self.shared.cursor()
    }

    /// A handle that stops this subscription from elsewhere.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Marks the last item handled, stops the subscription and saves the cursor.
    pub async fn close(mut self) {
        if let Some(seq) = self.last.take() {
            self.shared.completed(seq);
        }
        self.stop.stop();
        self.rx.close();
        if let Some(task) = self.task.take() {
            if let Err(e) = task.await {
                warn!(error = %e, "subscription task failed");
            }
        }
        self.shared.save().await;
    }

    /// Calls `handler` on each item, one at a time, counting an item handled when its call
    /// returns; until a [`StopHandle`] stops it (`Ok`) or the subscription fails (`Err`,
    /// e.g. [`SubscribeError::FutureCursor`]). The cursor is saved on the way out.
    pub async fn run<F, Fut>(mut self, mut handler: F) -> Result<(), SubscribeError>
    where
        F: FnMut(T) -> Fut,
        Fut: Future<Output = ()>,
    {
        if let Some(seq) = self.last.take() {
            self.shared.completed(seq);
        }
        let mut result = Ok(());
        while let Some((seq, item, _bytes)) = self.rx.recv().await {
            match item {
                Ok(item) => {
                    handler(item).await;
                    if let Some(seq) = seq {
                        self.shared.completed(seq);
                    }
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.close().await;
        result
    }

    /// Calls `handler` on `workers` tasks at once. Items with the same
    /// [`PartitionKey`] (an account's DID) go to the same worker, so each account's events
    /// are handled in order; the cursor only moves over a run of completed events, so a
    /// restart never skips one still in progress elsewhere. Returns as [`Events::run`].
    ///
    /// Memory: besides the subscription's buffer, up to 64 items wait per worker.
    pub async fn run_parallel<F, Fut>(
        mut self,
        workers: usize,
        handler: F,
    ) -> Result<(), SubscribeError>
    where
        T: PartitionKey + Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        if let Some(seq) = self.last.take() {
            self.shared.completed(seq);
        }
        let workers = workers.max(1);
        let handler = Arc::new(handler);
        let mut queues = Vec::with_capacity(workers);
        let mut tasks = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (tx, mut rx) = mpsc::channel::<(Option<i64>, T)>(WORKER_QUEUE);
            let handler = handler.clone();
            let shared = self.shared.clone();
            tasks.push(tokio::spawn(async move {
                while let Some((seq, item)) = rx.recv().await {
                    handler(item).await;
                    if let Some(seq) = seq {
                        shared.completed(seq);
                    }
                }
            }));
            queues.push(tx);
        }
        let mut result = Ok(());
        while let Some((seq, item, _bytes)) = self.rx.recv().await {
            match item {
                Ok(item) => {
                    let index = worker_for(item.partition_key(), workers);
                    let Some(queue) = queues.get(index) else {
                        break;
                    };
                    if queue.send((seq, item)).await.is_err() {
                        warn!(index, "worker ended early");
                        break;
                    }
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        drop(queues);
        for task in tasks {
            if let Err(e) = task.await {
                warn!(error = %e, "worker failed");
            }
        }
        self.close().await;
        result
    }
}

/// Items queued per worker in [`Events::run_parallel`].
const WORKER_QUEUE: usize = 64;

fn worker_for(key: Option<&str>, workers: usize) -> usize {
    let Some(key) = key else {
        return 0;
    };
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    (hasher.finish() % workers as u64) as usize
}

impl<T> Stream for Events<T> {
    type Item = Result<T, SubscribeError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(seq) = self.last.take() {
            self.shared.completed(seq);
        }
        match self.rx.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            // The item's share of the byte budget is freed as it is handed out.
            Poll::Ready(Some((seq, item, _bytes))) => {
                self.last = seq;
                Poll::Ready(Some(item))
            }
        }
    }
}

/// A subscription read from blocking code: an iterator that owns its runtime (a
/// multi-thread runtime with one worker, which runs the socket while the caller works).
#[derive(Debug)]
pub struct BlockingEvents<T> {
    events: Option<Events<T>>,
    runtime: tokio::runtime::Runtime,
}

impl<T> BlockingEvents<T> {
    pub(crate) fn new(events: Events<T>, runtime: tokio::runtime::Runtime) -> Self {
        BlockingEvents {
            events: Some(events),
            runtime,
        }
    }

    /// The subscription's counters.
    pub fn stats(&self) -> Option<&Stats> {
        self.events.as_ref().map(Events::stats)
    }

    /// The highest seq below which every event has been handled.
    pub fn cursor(&self) -> Option<i64> {
        self.events.as_ref().and_then(Events::cursor)
    }

    /// A handle that stops this subscription from another thread.
    pub fn stop_handle(&self) -> Option<StopHandle> {
        self.events.as_ref().map(Events::stop_handle)
    }

    /// Marks the last item handled, stops the subscription and saves the cursor.
    pub fn close(mut self) {
        if let Some(events) = self.events.take() {
            self.runtime.block_on(events.close());
        }
    }
}

impl<T> Iterator for BlockingEvents<T> {
    type Item = Result<T, SubscribeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let events = self.events.as_mut()?;
        self.runtime.block_on(futures_util::StreamExt::next(events))
    }
}

impl<T> Drop for BlockingEvents<T> {
    fn drop(&mut self) {
        // Stop the socket task and let it save the cursor before the runtime goes.
        if let Some(mut events) = self.events.take() {
            events.stop.stop();
            if let Some(task) = events.task.take() {
                let _ = self.runtime.block_on(task);
            }
        }
    }
}

/// The runtime of the blocking API.
pub(crate) fn blocking_runtime() -> Result<tokio::runtime::Runtime, SubscribeError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("atdata-subscribe")
        .enable_all()
        .build()
        .map_err(SubscribeError::Runtime)
}
