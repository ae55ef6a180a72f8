-- The daily report's figures of the chain after discovery (issue 12: bot.actions.digest,
-- storage.stats.chain), each counted from an index instead of a scan of the whole table: at
-- 10,000 people in isolation (bench/isolation.py) the scans of contacts and of the tests took
-- most of the report's 50 ms.
CREATE INDEX contacts_created ON contacts(created_at);
CREATE INDEX contacts_state ON contacts(state);
CREATE INDEX stays_released ON stays(released_at) WHERE released_at IS NOT NULL;
CREATE INDEX stay_tests_sampled ON stay_tests(sampled_at) WHERE sampled_at IS NOT NULL;
CREATE INDEX stay_tests_result ON stay_tests(result, result_at) WHERE result IS NOT NULL;
-- sampled, the result not in yet: an equality and a range, preferred to the range above
CREATE INDEX stay_tests_awaiting ON stay_tests(COALESCE(result, 'pending'), sampled_at);
CREATE INDEX transfers_delivered ON transfers(delivered_at) WHERE delivered_at IS NOT NULL;
