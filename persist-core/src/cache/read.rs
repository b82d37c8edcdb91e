//! How the cache answers a read: from the hot tier when it holds the answer,
//! else from the store with the queued mutations on top, admitting what it
//! read into the hot tier.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

/// Reads of counts tried without the commit gate before one takes it.
const OPTIMISTIC_READS: u32 = 3;

use crate::model::Message;
use crate::{Answer, ChannelId, MessageId, MessagePage, Mutation, Query, Result};

use super::hot::{LoadTicket, Whole};
use super::queue::{InFlight, Segment, lock, lock_for_read};
use super::stats::Counters;
use super::{Cache, Inner, overlay, relevance};

impl Inner {
    /// The answer from memory, or `None`; counts the hit or miss. Messages
    /// are copied after the lock is released.
    pub(super) fn read_hot(&self, query: &Query) -> Option<Answer> {
        match *query {
            Query::Message(id) => self
                .hot_message(id)
                .map(|m| Answer::Message(m.map(Arc::unwrap_or_clone))),
            Query::ChannelMessages {
                channel_id,
                page,
                limit,
            } => self
                .hot_channel_messages(channel_id, page, limit)
                .map(|p| Answer::Messages(p.into_iter().map(Arc::unwrap_or_clone).collect())),
            _ => {
                let answer = lock_for_read(&self.hot).answer(query);
                self.count_hot(answer.is_some());
                answer
            }
        }
    }

    /// A message from memory, shared; counts the hit or miss.
    pub(super) fn hot_message(&self, id: MessageId) -> Option<Option<Arc<Message>>> {
        let held = lock_for_read(&self.hot).message(id);
        self.count_hot(held.is_some());
        held
    }

    /// A page of messages from memory, shared; counts the hit or miss.
    pub(super) fn hot_channel_messages(
        &self,
        channel_id: ChannelId,
        page: MessagePage,
        limit: usize,
    ) -> Option<Vec<Arc<Message>>> {
        let held = lock_for_read(&self.hot).channel_messages(channel_id, page, limit);
        self.count_hot(held.is_some());
        held
    }

    fn count_hot(&self, hit: bool) {
        let counter = match hit {
            true => &self.counters.hot_hits,
            false => &self.counters.hot_misses,
        };
        Counters::add(counter, 1);
    }

    /// Evicts down to what the budget leaves after the queue's bytes.
    pub(super) fn fit_hot(&self, hot: &mut super::hot::HotTier) {
        let budget = self
            .memory_budget
            .load(std::sync::atomic::Ordering::Acquire);
        let queued = self.queue.bytes.load(std::sync::atomic::Ordering::Acquire);
        let limit = budget.saturating_sub(queued);
        if hot.bytes() > limit {
            hot.shrink_to(limit);
        }
    }

    /// Registers a load and snapshots, under the hot tier's lock, what is
    /// queued: every later mutation is noted for the load instead.
    fn begin_load(&self, queries: &[Query]) -> (LoadTicket, (InFlight, Vec<Segment>)) {
        let mut hot = lock(&self.hot);
        let ticket = hot.begin_load(queries);
        let snapshot = self.queue.snapshot();
        drop(hot);
        (ticket, snapshot)
    }
}

/// The in-flight and queued mutations of a queue snapshot that may change
/// `query`'s answer (see `relevance::may_matter`), oldest first.
pub(super) fn relevant_in<'s>(
    snapshot: &'s (InFlight, Vec<Segment>),
    query: &Query,
) -> Vec<&'s Mutation> {
    let (in_flight, waiting) = snapshot;
    let mut relevant: Vec<&Mutation> = in_flight
        .iter()
        .flat_map(|c| c.pending())
        .filter(|m| relevance::may_matter(m, query))
        .collect();
    // Filtered before they are put in arrival order: a read sorts the few
    // that matter, not the whole queue.
    let mut waiting: Vec<(u64, &Mutation)> = waiting
        .iter()
        .flat_map(|segment| segment.iter())
        .filter(|q| relevance::may_matter(&q.mutation, query))
        .map(|q| (q.seq, &q.mutation))
        .collect();
    waiting.sort_by_key(|(seq, _)| *seq);
    relevant.extend(waiting.into_iter().map(|(_, m)| m));
    relevant
}

/// The one answer to a read of one query.
fn only_answer(query: &Query, answers: Vec<Answer>) -> Result<Answer> {
    answers
        .into_iter()
        .next()
        .ok_or(crate::Error::UnexpectedAnswer {
            query: query.name(),
            answer: "nothing",
        })
}

impl Cache {
    /// Answers any query, seeing queued writes: from memory when the hot
    /// tier holds the answer, else from the store with the queued writes
    /// applied on top. `Counts` answers what is committed, without waiting
    /// for the queue (`stats().queued` says how much is not).
    pub async fn read(&self, query: &Query) -> Result<Answer> {
        if matches!(query, Query::Counts) {
            return self.inner.store.read(query).await;
        }
        let answer = match self.inner.read_hot(query) {
            Some(answer) => answer,
            None => self.read_cold(query).await?,
        };
        Ok(self.drop_expired(answer))
    }

    /// Answers from memory only: `None` when the hot tier does not hold the
    /// answer (the async [`read`](Cache::read) then goes to the store).
    /// Never waits; `Counts`, `GuildIds` and `UserGuilds` are never held.
    ///
    /// ```
    /// use persist_core::{Answer, Cache, GuildId, MemoryStore, Migrations, Mutation, Query, model::Guild};
    /// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::new(MemoryStore::open(&Migrations::new()).await?, Default::default(), Default::default())?;
    /// let guild = Guild { id: GuildId::new(1), name: "ferris club".into(), ..Default::default() };
    /// cache.enqueue_now([Mutation::upsert(guild)])?;
    /// // Guilds are pinned in memory: answered at once, without the store.
    /// let Some(Answer::Guild(Some(read))) = cache.try_read(&Query::Guild(GuildId::new(1))) else { panic!() };
    /// assert_eq!(read.name, "ferris club");
    /// # cache.shutdown().await?;
    /// # Ok::<(), persist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn try_read(&self, query: &Query) -> Option<Answer> {
        self.inner
            .read_hot(query)
            .map(|answer| self.drop_expired(answer))
    }

    /// A read the hot tier could not answer.
    async fn read_cold(&self, query: &Query) -> Result<Answer> {
        match *query {
            Query::ChannelMessages { channel_id, .. } => {
                if self.load_window(channel_id).await?
                    && let Some(answer) = lock(&self.inner.hot).answer(query)
                {
                    return Ok(answer);
                }
                self.read_through(query).await
            }
            Query::Message(_) => {
                let answer = self.load_one(query).await?;
                if let Answer::Message(Some(message)) = &answer {
                    // Reading one message of a channel makes its newest hot.
                    self.load_window(message.channel_id).await?;
                }
                Ok(answer)
            }
            Query::GuildMembers { after: None, .. } => {
                if let Some(whole) = Whole::read_by(query) {
                    self.load(&whole.loads()).await?;
                    if let Some(answer) = lock(&self.inner.hot).answer(query) {
                        return Ok(answer);
                    }
                }
                self.read_through(query).await
            }
            Query::GuildMembers { .. } | Query::GuildIds | Query::UserGuilds(_) | Query::Counts => {
                self.read_through(query).await
            }
            _ => match Whole::read_by(query) {
                Some(whole) => {
                    let loads = whole.loads();
                    let answers = self.load(&loads).await?;
                    let at = loads.iter().position(|q| q == query);
                    match at.and_then(|at| answers.into_iter().nth(at)) {
                        Some(answer) => Ok(answer),
                        None => self.read_through(query).await,
                    }
                }
                None => self.load_one(query).await,
            },
        }
    }

    /// Loads a channel's newest messages into the hot tier if they are not
    /// held; whether it tried.
    async fn load_window(&self, channel_id: ChannelId) -> Result<bool> {
        let load = {
            let hot = lock(&self.inner.hot);
            (!hot.has_window(channel_id)).then(|| hot.window_load(channel_id))
        };
        let Some(load) = load else {
            return Ok(false);
        };
        self.load(&[load]).await?;
        Ok(true)
    }

    async fn load_one(&self, query: &Query) -> Result<Answer> {
        only_answer(query, self.load(std::slice::from_ref(query)).await?)
    }

    /// Reads from the store with the queue on top and admits the answers,
    /// all of them or none (see [`HotTier::admit_all`](super::hot)).
    async fn load(&self, queries: &[Query]) -> Result<Vec<Answer>> {
        let (ticket, answers) = self.read_store(queries, true).await?;
        let Some(ticket) = ticket else {
            return Ok(answers);
        };
        let mut hot = lock(&self.inner.hot);
        let Some(logs) = hot.finish_load(ticket) else {
            return Ok(answers);
        };
        if let [Query::ChannelMessages { channel_id, .. }] = queries
            && let [answer] = answers.as_slice()
            && let [log] = logs.as_slice()
        {
            // A window: its range stands even when the channel moved on.
            let limit = hot.window_size();
            if let Some((bottom, messages)) =
                overlay::replay_window(*channel_id, answer, log, limit)?
            {
                hot.admit_window(*channel_id, bottom, messages);
                self.inner.fit_hot(&mut hot);
            }
            return Ok(answers);
        }
        let mut admitted = Vec::with_capacity(answers.len());
        for ((query, answer), log) in queries.iter().zip(&answers).zip(logs) {
            match overlay::replay(query, answer, &log)? {
                Some(answer) => admitted.push(answer),
                // Changed meanwhile in a way the read cannot replay.
                None => return Ok(answers),
            }
        }
        hot.admit_all(queries, &admitted);
        self.inner.fit_hot(&mut hot);
        Ok(answers)
    }

    /// A read that is not admitted: the store with the queue on top.
    async fn read_through(&self, query: &Query) -> Result<Answer> {
        let (_, answers) = self.read_store(std::slice::from_ref(query), false).await?;
        only_answer(query, answers)
    }

    /// Reads `queries` from the store with the queued mutations on top; with
    /// `admit`, as a load of the hot tier (its ticket is returned, for
    /// `HotTier::finish_load`).
    ///
    /// Reaction counts are not idempotent: a batch committed between the
    /// queue's snapshot and the store read would count twice. Tried without
    /// the commit gate first, checking that no commit overlapped (the commit
    /// epoch is odd while one holds the gate), then holding it.
    async fn read_store(
        &self,
        queries: &[Query],
        admit: bool,
    ) -> Result<(Option<LoadTicket>, Vec<Answer>)> {
        let end_load = |ticket: Option<LoadTicket>| {
            if let Some(ticket) = ticket {
                lock(&self.inner.hot).finish_load(ticket);
            }
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let no_commit = if attempt > OPTIMISTIC_READS {
                Some(self.inner.gate.read().await)
            } else {
                None
            };
            let epoch = self.inner.commit_epoch.load(Ordering::SeqCst);
            let (ticket, snapshot) = if admit {
                let (ticket, snapshot) = self.inner.begin_load(queries);
                (Some(ticket), snapshot)
            } else {
                (None, self.inner.queue.snapshot())
            };
            let relevant: Vec<Vec<&Mutation>> =
                queries.iter().map(|q| relevant_in(&snapshot, q)).collect();
            let exact = no_commit.is_some() || relevant.iter().flatten().all(|m| m.is_idempotent());
            if !exact && epoch % 2 == 1 {
                end_load(ticket);
                tokio::task::yield_now().await;
                continue;
            }
            let mut answers = Vec::with_capacity(queries.len());
            for (query, pending) in queries.iter().zip(&relevant) {
                match overlay::resolve(&*self.inner.store, query, pending).await {
                    Ok(answer) => answers.push(answer),
                    Err(error) => {
                        end_load(ticket);
                        return Err(error);
                    }
                }
            }
            if exact || self.inner.commit_epoch.load(Ordering::SeqCst) == epoch {
                return Ok((ticket, answers));
            }
            end_load(ticket);
        }
    }

    /// The oldest message the age limit keeps: older ones are hidden from
    /// reads until the writer's next prune removes them.
    pub(super) fn oldest_kept_message(&self) -> Option<MessageId> {
        self.inner.rules.oldest_kept_message(SystemTime::now())
    }

    /// Hides messages past the age limit that the next prune will remove.
    pub(super) fn drop_expired(&self, answer: Answer) -> Answer {
        let Some(oldest) = self.oldest_kept_message() else {
            return answer;
        };
        match answer {
            Answer::Message(Some(m)) if m.id < oldest => Answer::Message(None),
            Answer::Messages(mut page) => {
                page.retain(|m| m.id >= oldest);
                Answer::Messages(page)
            }
            other => other,
        }
    }
}
