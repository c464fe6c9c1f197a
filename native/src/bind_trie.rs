//! JS bindings of the topic trie: plain functions over a tagged external handle (the TS class
//! in src/native/topic-trie.ts holds the handle). An external costs less per call than
//! napi_unwrap on a wrapped object, and the type tag keeps foreign externals out.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use crate::js_function;
use crate::napi::sys::napi_callback;
use crate::napi::{Args, JsError, JsResult, Value, Wrapped};
use crate::trie::{Trie, TrieFull};

struct TrieObject {
    trie: Trie,
    /// Reused copy of the string argument (filter or topic) as UTF-8.
    text: Vec<u8>,
}

impl Wrapped for TrieObject {
    const TAG: (u64, u64) = (0x6a75_6e63_7469_6f6e, 0x746f_7069_6374_7269);
}

fn random_seed() -> u64 {
    RandomState::new().build_hasher().finish()
}

/// trieNew(cacheSize: number): handle
fn new(a: &Args) -> JsResult<Value> {
    a.expect(1)?;
    let cache_size = a.u32(0, "cacheSize")? as usize;
    a.env().external(Box::new(TrieObject { trie: Trie::new(cache_size, random_seed()), text: Vec::with_capacity(256) }))
}

/// trieInsert(trie, filter: string, id: number, options: number): boolean
fn insert(a: &Args) -> JsResult<Value> {
    a.expect(4)?;
    let obj = a.external::<TrieObject>(0, "trie")?;
    a.string_into(1, "filter", &mut obj.text)?;
    let id = a.i32(2, "id")?;
    let options = a.i32(3, "options")?;
    let added = obj.trie.insert(&obj.text, id, options).map_err(|TrieFull| {
        JsError::Range(format!("trieInsert: the trie is full ({} nodes)", obj.trie.stats().0))
    })?;
    a.env().boolean(added)
}

/// trieRemove(trie, filter: string, id: number): boolean
fn remove(a: &Args) -> JsResult<Value> {
    a.expect(3)?;
    let obj = a.external::<TrieObject>(0, "trie")?;
    a.string_into(1, "filter", &mut obj.text)?;
    let id = a.i32(2, "id")?;
    let removed = obj.trie.remove(&obj.text, id);
    a.env().boolean(removed)
}

/// trieRemoveQuiet(trie, filter: string, id: number): boolean — between trieBeginBulk/trieEndBulk.
fn remove_quiet(a: &Args) -> JsResult<Value> {
    a.expect(3)?;
    let obj = a.external::<TrieObject>(0, "trie")?;
    a.string_into(1, "filter", &mut obj.text)?;
    let id = a.i32(2, "id")?;
    let removed = obj.trie.remove_quiet(&obj.text, id);
    a.env().boolean(removed)
}

/// trieBeginBulk(trie): sets the cache aside for a bulk removal.
fn begin_bulk(a: &Args) -> JsResult<Value> {
    a.expect(1)?;
    a.external::<TrieObject>(0, "trie")?.trie.begin_bulk();
    a.env().undefined()
}

/// trieEndBulk(trie, removed: number)
fn end_bulk(a: &Args) -> JsResult<Value> {
    a.expect(2)?;
    let obj = a.external::<TrieObject>(0, "trie")?;
    let removed = a.u32(1, "removed")?;
    obj.trie.end_bulk(removed);
    a.env().undefined()
}

/// Copies a result into `out` when it fits; returns the pair count either way.
fn deliver(pairs: &[i32], out: &mut [i32]) -> u32 {
    if pairs.len() <= out.len() {
        out[..pairs.len()].copy_from_slice(pairs);
    }
    (pairs.len() / 2) as u32
}

/// trieMatchInto(trie, topic: string, out: Int32Array): pair count (written only if they fit)
fn match_into(a: &Args) -> JsResult<Value> {
    a.expect(3)?;
    let obj = a.external::<TrieObject>(0, "trie")?;
    a.string_into(1, "topic", &mut obj.text)?;
    let out = a.i32_array_mut(2, "out", &[])?;
    let n = deliver(obj.trie.match_topic(&obj.text), out);
    a.env().uint32(n)
}

/// trieMatchBytesInto(trie, buf: Uint8Array, start, end, out: Int32Array): pair count
fn match_bytes_into(a: &Args) -> JsResult<Value> {
    a.expect(5)?;
    let obj = a.external::<TrieObject>(0, "trie")?;
    let buf = a.u8_array(1, "buf")?;
    let start = a.u32(2, "start")? as usize;
    let end = a.u32(3, "end")? as usize;
    if start > end || end > buf.len() {
        return Err(JsError::Range(format!(
            "trieMatchBytesInto: range [{start}, {end}) of 'buf' is outside its {} bytes",
            buf.len()
        )));
    }
    let out = a.i32_array_mut(4, "out", buf)?;
    let n = deliver(obj.trie.match_topic(&buf[start..end]), out);
    a.env().uint32(n)
}

/// trieClearCache(trie)
fn clear_cache(a: &Args) -> JsResult<Value> {
    a.expect(1)?;
    a.external::<TrieObject>(0, "trie")?.trie.clear_cache();
    a.env().undefined()
}

/// trieStats(trie, out: Uint32Array): size, cacheSize, live nodes, generation low and high words.
fn stats(a: &Args) -> JsResult<Value> {
    a.expect(2)?;
    let obj = a.external::<TrieObject>(0, "trie")?;
    let out = a.u32_array_mut(1, "out", &[])?;
    if out.len() < 5 {
        return Err(JsError::Range("trieStats: argument 'out' needs 5 slots".into()));
    }
    let t = &obj.trie;
    let g = t.generation();
    out[0] = t.size();
    out[1] = t.cache_len() as u32;
    out[2] = t.stats().0 as u32;
    out[3] = g as u32;
    out[4] = (g >> 32) as u32;
    a.env().undefined()
}

js_function!(new_cb, "trieNew", new);
js_function!(insert_cb, "trieInsert", insert);
js_function!(remove_cb, "trieRemove", remove);
js_function!(remove_quiet_cb, "trieRemoveQuiet", remove_quiet);
js_function!(begin_bulk_cb, "trieBeginBulk", begin_bulk);
js_function!(end_bulk_cb, "trieEndBulk", end_bulk);
js_function!(match_into_cb, "trieMatchInto", match_into);
js_function!(match_bytes_into_cb, "trieMatchBytesInto", match_bytes_into);
js_function!(clear_cache_cb, "trieClearCache", clear_cache);
js_function!(stats_cb, "trieStats", stats);

/// The trie's exports: (name, callback).
pub const EXPORTS: &[(&str, napi_callback)] = &[
    ("trieNew", new_cb),
    ("trieInsert", insert_cb),
    ("trieRemove", remove_cb),
    ("trieRemoveQuiet", remove_quiet_cb),
    ("trieBeginBulk", begin_bulk_cb),
    ("trieEndBulk", end_bulk_cb),
    ("trieMatchInto", match_into_cb),
    ("trieMatchBytesInto", match_bytes_into_cb),
    ("trieClearCache", clear_cache_cb),
    ("trieStats", stats_cb),
];
