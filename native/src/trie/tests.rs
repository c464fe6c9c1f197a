//! Tests of the trie as a whole: matching rules, the match cache, bulk removal and a random
//! differential of cache sizes against the reference matcher.
use std::collections::HashMap;

use super::*;

/// The (id, options) pairs matching `topic`, sorted: what matched, not in which order.
fn matched(t: &mut Trie, topic: &str) -> Vec<(i32, i32)> {
    let mut v: Vec<(i32, i32)> = t.match_topic(topic.as_bytes()).chunks(2).map(|p| (p[0], p[1])).collect();
    v.sort_unstable();
    v
}

fn ids(t: &mut Trie, topic: &str) -> Vec<i32> {
    matched(t, topic).into_iter().map(|p| p.0).collect()
}

fn trie_with(filters: &[(&str, i32)]) -> Trie {
    let mut t = Trie::new(1024, 0x5eed);
    for &(f, id) in filters {
        assert!(t.insert(f.as_bytes(), id, 0).unwrap());
    }
    t
}

const NONE: [i32; 0] = [];

#[test]
fn a_literal_filter_matches_only_the_topic_spelled_the_same() {
    let mut t = trie_with(&[("a/b", 1), ("telemetry/device-0001/temperature", 2)]);
    assert_eq!(ids(&mut t, "a/b"), [1]);
    for topic in ["a", "a/b/c", "a/bb", "A/b", "/a/b", "a/b/"] {
        assert_eq!(ids(&mut t, topic), NONE, "{topic}");
    }
    assert_eq!(ids(&mut t, "telemetry/device-0001/temperature"), [2]);
    assert_eq!(ids(&mut t, "telemetry/device-0002/temperature"), NONE);
}

#[test]
fn plus_matches_exactly_one_level_even_an_empty_one() {
    let mut t = trie_with(&[("a/+", 1), ("+/b/+", 2), ("+", 3)]);
    assert_eq!(ids(&mut t, "a/x"), [1]);
    assert_eq!(ids(&mut t, "a/"), [1]);
    assert_eq!(ids(&mut t, "a"), [3]);
    assert_eq!(ids(&mut t, "a/x/y"), NONE);
    assert_eq!(ids(&mut t, "x/b/y"), [2]);
    assert_eq!(ids(&mut t, "/b/"), [2]);
    assert_eq!(ids(&mut t, ""), [3]);
}

#[test]
fn hash_matches_its_parent_level_and_everything_below() {
    let mut t = trie_with(&[("a/#", 1), ("#", 2), ("a/b/#", 3)]);
    assert_eq!(ids(&mut t, "a"), [1, 2]);
    assert_eq!(ids(&mut t, "a/"), [1, 2]);
    assert_eq!(ids(&mut t, "a/b"), [1, 2, 3]);
    assert_eq!(ids(&mut t, "a/b/c/d/e"), [1, 2, 3]);
    assert_eq!(ids(&mut t, "b"), [2]);
    assert_eq!(ids(&mut t, ""), [2]);
}

#[test]
fn root_wildcards_never_match_dollar_topics() {
    let mut t = trie_with(&[("#", 1), ("+/x", 2), ("+", 3), ("$SYS/#", 4), ("$SYS/+", 5), ("+/+", 6)]);
    assert_eq!(ids(&mut t, "$SYS/x"), [4, 5]);
    assert_eq!(ids(&mut t, "$SYS"), [4]);
    assert_eq!(ids(&mut t, "$"), NONE);
    // Only a leading `$` counts.
    assert_eq!(ids(&mut t, "a/$x"), [1, 6]);
    assert_eq!(ids(&mut t, "b/x"), [1, 2, 6]);
}

#[test]
fn empty_levels_are_levels() {
    let mut t = trie_with(&[("/a", 1), ("a//b", 2), ("a/+/b", 3), ("+/+", 4), ("/", 5)]);
    assert_eq!(ids(&mut t, "/a"), [1, 4]);
    assert_eq!(ids(&mut t, "a"), NONE);
    assert_eq!(ids(&mut t, "a//b"), [2, 3]);
    assert_eq!(ids(&mut t, "a/b"), [4]);
    assert_eq!(ids(&mut t, "/"), [4, 5]);
    assert_eq!(ids(&mut t, "//"), NONE);
}

#[test]
fn wildcard_characters_in_a_topic_are_plain_characters() {
    // Topic names cannot hold wildcards; if one arrives it is a level name. Looked up as a
    // wildcard edge it would reach the wildcard's node a second time: duplicate deliveries.
    let mut t = trie_with(&[("a/b", 1), ("a/+", 2), ("a/#", 3), ("+/b", 4)]);
    assert_eq!(ids(&mut t, "a/+"), [2, 3]);
    assert_eq!(ids(&mut t, "a/#"), [2, 3]);
    assert_eq!(ids(&mut t, "+/b"), [4]);
}

#[test]
fn names_around_the_key_and_inline_sizes_stay_distinct() {
    // 7 bytes: packed in the key; 8-11: interned inline; 12+: interned in the slab.
    let names = ["abcdefg", "abcdefgh", "abcdefgX", "abcdefghijk", "abcdefghijkl", "abcdefghijkX", "abcdefghijklm"];
    let filters: Vec<String> = names.iter().map(|n| format!("{n}/{n}")).collect();
    let mut t = Trie::new(0, 3);
    for (i, f) in filters.iter().enumerate() {
        t.insert(f.as_bytes(), i as i32, 0).unwrap();
    }
    for (i, f) in filters.iter().enumerate() {
        assert_eq!(ids(&mut t, f), [i as i32], "{f}");
    }
    assert_eq!(ids(&mut t, "abcdefg/abcdefgh"), NONE);
    assert_eq!(ids(&mut t, "abcdef/abcdef"), NONE);
}

#[test]
fn a_long_name_shared_by_two_filters_survives_the_removal_of_one() {
    let mut t = trie_with(&[("fleet-one/telemetry-channel", 1), ("fleet-two/telemetry-channel", 2)]);
    assert!(t.remove(b"fleet-one/telemetry-channel", 1));
    assert_eq!(ids(&mut t, "fleet-two/telemetry-channel"), [2]);
    assert_eq!(ids(&mut t, "fleet-one/telemetry-channel"), NONE);
    assert!(t.remove(b"fleet-two/telemetry-channel", 2));
    assert!(t.insert(b"fleet-one/telemetry-channel", 3, 0).unwrap());
    assert_eq!(ids(&mut t, "fleet-one/telemetry-channel"), [3]);
}

#[test]
fn an_id_appears_once_per_matching_filter() {
    let mut t = trie_with(&[("a/b", 1), ("a/+", 1), ("#", 1), ("a/b", 2)]);
    assert_eq!(ids(&mut t, "a/b"), [1, 1, 1, 2]);
    assert_eq!(t.size(), 4);
}

#[test]
fn inserting_an_existing_pair_replaces_its_options() {
    let mut t = Trie::new(1024, 1);
    assert!(t.insert(b"a/+", 1, 10).unwrap());
    assert_eq!(matched(&mut t, "a/x"), [(1, 10)]);
    assert!(!t.insert(b"a/+", 1, 20).unwrap());
    assert_eq!(t.size(), 1);
    assert_eq!(matched(&mut t, "a/x"), [(1, 20)], "the cached result got the new options");
}

#[test]
fn remove_reports_whether_the_pair_existed() {
    let mut t = trie_with(&[("a/b", 1), ("a/+", 2)]);
    assert!(!t.remove(b"a/b", 2));
    assert!(!t.remove(b"a/+", 1));
    assert!(!t.remove(b"a", 1));
    assert!(!t.remove(b"a/b/c", 1));
    assert_eq!(t.size(), 2);
    assert!(t.remove(b"a/b", 1));
    assert!(!t.remove(b"a/b", 1), "removed once only");
    assert_eq!(t.size(), 1);
    assert_eq!(ids(&mut t, "a/b"), [2]);
}

#[test]
fn results_come_in_the_twins_walk_order() {
    // The twin (src/core/topic-trie.ts collect) emits a node's `#` child first, then walks the
    // literal branch before the `+` branch; within a node, pairs are in insertion order with
    // a removed pair's slot taken by the last one. test/native/trie.test.ts compares the two
    // element by element, so the order is part of the contract.
    let mut t = trie_with(&[("#", 1), ("a/#", 2), ("a/+", 3), ("a/b", 4), ("+/b", 5), ("+/#", 6)]);
    let order = |t: &mut Trie| t.match_topic(b"a/b").chunks(2).map(|p| p[0]).collect::<Vec<_>>();
    assert_eq!(order(&mut t), [1, 2, 4, 3, 6, 5]);
    t.insert(b"a/b", 7, 0).unwrap();
    t.insert(b"a/b", 8, 0).unwrap();
    assert_eq!(order(&mut t), [1, 2, 4, 7, 8, 3, 6, 5]);
    t.remove(b"a/b", 4);
    assert_eq!(order(&mut t), [1, 2, 8, 7, 3, 6, 5]);
}

#[test]
fn every_mutation_bumps_the_generation_and_nothing_else_does() {
    let mut t = Trie::new(1024, 1);
    let mut g = t.generation();
    let mut step = |t: &mut Trie, bumps: bool, what: &str| {
        let now = t.generation();
        assert_eq!(now, if bumps { g + 1 } else { g }, "{what}");
        g = now;
    };
    t.insert(b"a/b", 1, 0).unwrap();
    step(&mut t, true, "new pair");
    t.insert(b"a/b", 1, 5).unwrap();
    step(&mut t, true, "options replaced");
    t.match_topic(b"a/b");
    t.clear_cache();
    step(&mut t, false, "match and clear_cache");
    t.remove(b"a/b", 2);
    step(&mut t, false, "remove of an absent pair");
    t.remove(b"a/b", 1);
    step(&mut t, true, "remove");
}

#[test]
fn a_literal_insert_refreshes_its_cached_topic() {
    let mut t = trie_with(&[("a/b", 1)]);
    assert_eq!(ids(&mut t, "a/b"), [1]);
    assert_eq!(ids(&mut t, "a/c"), NONE);
    t.insert(b"a/b", 2, 0).unwrap();
    t.insert(b"a/c", 3, 0).unwrap();
    assert_eq!(t.cache_len(), 2);
    assert_eq!(ids(&mut t, "a/b"), [1, 2]);
    assert_eq!(ids(&mut t, "a/c"), [3], "a cached empty result is refreshed too");
}

#[test]
fn a_wildcard_insert_refreshes_every_cached_topic_it_matches() {
    let mut t = trie_with(&[("x/y", 1)]);
    for topic in ["a", "a/b", "a/c", "x/y", "$SYS/a"] {
        ids(&mut t, topic);
    }
    t.insert(b"a/+", 2, 0).unwrap();
    t.insert(b"a/#", 3, 0).unwrap();
    t.insert(b"#", 4, 0).unwrap();
    assert_eq!(t.cache_len(), 5);
    assert_eq!(ids(&mut t, "a"), [3, 4]);
    assert_eq!(ids(&mut t, "a/b"), [2, 3, 4]);
    assert_eq!(ids(&mut t, "a/c"), [2, 3, 4]);
    assert_eq!(ids(&mut t, "x/y"), [1, 4]);
    assert_eq!(ids(&mut t, "$SYS/a"), NONE);
    t.insert(b"$SYS/#", 5, 0).unwrap();
    assert_eq!(ids(&mut t, "$SYS/a"), [5]);
}

#[test]
fn a_removal_drops_every_cached_topic_it_matches() {
    let mut t = trie_with(&[("a/b", 1), ("a/+", 2), ("a/#", 3), ("x/y", 4)]);
    for topic in ["a", "a/b", "a/c", "x/y"] {
        ids(&mut t, topic);
    }
    assert!(t.remove(b"a/+", 2));
    assert_eq!(t.cache_len(), 2, "a/b and a/c dropped, a and x/y kept");
    assert_eq!(ids(&mut t, "a/b"), [1, 3]);
    assert_eq!(ids(&mut t, "a/c"), [3]);
    assert!(t.remove(b"a/#", 3));
    assert_eq!(ids(&mut t, "a"), NONE, "`#` removal reaches the cached parent topic");
    assert_eq!(ids(&mut t, "a/c"), NONE);
    assert!(t.remove(b"a/b", 1));
    assert_eq!(ids(&mut t, "a/b"), NONE);
    assert_eq!(ids(&mut t, "x/y"), [4]);
}

#[test]
fn the_cache_stays_bounded_and_right() {
    let mut t = trie_with(&[("t/+", 1)]);
    let mut small = Trie::new(4, 9);
    small.insert(b"t/+", 1, 0).unwrap();
    for i in 0..100 {
        let topic = format!("t/{}", i % 10);
        assert_eq!(ids(&mut small, &topic), [1]);
        assert!(small.cache_len() <= 4);
        ids(&mut t, &topic);
    }
    assert_eq!(t.cache_len(), 10);
}

#[test]
fn without_a_cache_nothing_is_cached() {
    let mut t = Trie::new(0, 1);
    t.insert(b"a", 1, 0).unwrap();
    assert_eq!(ids(&mut t, "a"), [1]);
    assert_eq!(t.cache_len(), 0);
    t.insert(b"a", 2, 0).unwrap();
    assert_eq!(ids(&mut t, "a"), [1, 2]);
}

#[test]
fn clear_cache_changes_no_result() {
    let mut t = trie_with(&[("a/+", 1)]);
    assert_eq!(ids(&mut t, "a/b"), [1]);
    t.clear_cache();
    assert_eq!(t.cache_len(), 0);
    assert_eq!(ids(&mut t, "a/b"), [1]);
}

#[test]
fn a_bulk_removal_bumps_the_generation_once_and_serves_no_stale_result() {
    let mut t = trie_with(&[("a/b", 1), ("a/+", 1), ("a/#", 2)]);
    assert_eq!(ids(&mut t, "a/b"), [1, 1, 2]);
    let g = t.generation();
    t.begin_bulk();
    let removed = [t.remove_quiet(b"a/b", 1), t.remove_quiet(b"a/+", 1), t.remove_quiet(b"x", 1)];
    assert_eq!(removed, [true, true, false]);
    assert_eq!(t.generation(), g, "quiet removals leave the generation alone");
    assert_eq!(ids(&mut t, "a/b"), [2], "no cache while bulk removing");
    t.end_bulk(2);
    assert_eq!(t.generation(), g + 1);
    assert_eq!(t.size(), 1);
    assert_eq!(t.cache_len(), 0);
    assert_eq!(ids(&mut t, "a/b"), [2]);
    assert_eq!(t.cache_len(), 1, "the cache is back after the bulk removal");
}

#[test]
fn a_bulk_removal_that_removed_nothing_keeps_the_generation() {
    let mut t = trie_with(&[("a", 1)]);
    let g = t.generation();
    t.begin_bulk();
    assert!(!t.remove_quiet(b"b", 1));
    t.end_bulk(0);
    assert_eq!(t.generation(), g);
    assert_eq!(ids(&mut t, "a"), [1]);
}

fn random_filter(rng: &mut TestRng, levels: &[&str]) -> String {
    let n = 1 + rng.below(4);
    let mut parts: Vec<&str> =
        (0..n).map(|_| if rng.below(6) == 0 { "+" } else { levels[rng.below(levels.len())] }).collect();
    if rng.below(8) == 0 {
        parts.push("#");
    }
    parts.join("/")
}

/// Random inserts, removals (single and bulk) and matches on tries with a small cache, a
/// large one and none, checked against each other (same pairs in the same order) and
/// against the reference matcher over every stored filter.
#[test]
fn cached_and_uncached_tries_agree_with_the_reference_under_churn() {
    let levels = ["a", "b", "", "$SYS", "sensor01", "telemetry-channel"];
    for seed in 1..=3 {
        let mut rng = TestRng::new(seed);
        let topics: Vec<String> = (0..24)
            .map(|_| (0..1 + rng.below(4)).map(|_| levels[rng.below(levels.len())]).collect::<Vec<_>>().join("/"))
            .collect();
        let filters: Vec<String> = (0..60).map(|_| random_filter(&mut rng, &levels)).collect();
        let mut tries = [Trie::new(0, rng.next()), Trie::new(3, rng.next()), Trie::new(1024, rng.next())];
        let mut model: HashMap<(&str, i32), i32> = HashMap::new();
        for step in 0..20_000 {
            let op = rng.below(100);
            if op < 30 {
                let (f, id, opt) = (&filters[rng.below(filters.len())][..], rng.below(12) as i32, step);
                let added = model.insert((f, id), opt).is_none();
                for t in &mut tries {
                    assert_eq!(t.insert(f.as_bytes(), id, opt).unwrap(), added);
                }
            } else if op < 55 {
                let (f, id) = (&filters[rng.below(filters.len())][..], rng.below(12) as i32);
                let existed = model.remove(&(f, id)).is_some();
                for t in &mut tries {
                    assert_eq!(t.remove(f.as_bytes(), id), existed);
                }
            } else if op < 57 {
                // A disconnect: every filter of one id at once.
                let id = rng.below(12) as i32;
                let gone: Vec<&str> = model.keys().filter(|k| k.1 == id).map(|k| k.0).collect();
                for f in &gone {
                    model.remove(&(*f, id));
                }
                for t in &mut tries {
                    t.begin_bulk();
                    for f in &gone {
                        assert!(t.remove_quiet(f.as_bytes(), id));
                    }
                    t.end_bulk(gone.len() as u32);
                }
            } else {
                let topic = &topics[rng.below(topics.len())];
                let mut want: Vec<(i32, i32)> = model
                    .iter()
                    .filter(|((f, _), _)| filter_matches(f.as_bytes(), topic.as_bytes()))
                    .map(|(&(_, id), &opt)| (id, opt))
                    .collect();
                want.sort_unstable();
                let uncached = tries[0].match_topic(topic.as_bytes()).to_vec();
                for t in &mut tries[1..] {
                    assert_eq!(t.match_topic(topic.as_bytes()), uncached, "seed {seed} step {step} {topic}");
                }
                assert_eq!(matched(&mut tries[0], topic), want, "seed {seed} step {step} {topic}");
            }
            for t in &tries {
                assert_eq!(t.size() as usize, model.len());
                assert_eq!(t.generation(), tries[0].generation());
            }
            assert!(tries[1].cache_len() <= 3);
        }
        // Whatever the history, removing every pair leaves only the root.
        for (f, id) in model.keys() {
            for t in &mut tries {
                assert!(t.remove(f.as_bytes(), *id));
            }
        }
        for t in &mut tries {
            assert_eq!((t.size(), t.stats().0), (0, 1), "seed {seed}");
            for topic in &topics {
                assert_eq!(t.match_topic(topic.as_bytes()), NONE);
            }
        }
    }
}
