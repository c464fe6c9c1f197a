//! JS bindings of the topic trie: a class whose instances wrap one `Trie`.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use crate::js_function;
use crate::napi::{Args, JsResult, Value, Wrapped};
use crate::trie::Trie;

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

/// new NativeTopicTrie(cacheSize: number)
fn construct(a: &Args) -> JsResult<Value> {
    a.expect(1)?;
    let cache_size = a.u32(0, "cacheSize")? as usize;
    a.wrap_this(Box::new(TrieObject { trie: Trie::new(cache_size, random_seed()), text: Vec::with_capacity(256) }))?;
    a.env().undefined()
}

/// insert(filter: string, id: number, options: number): boolean
fn insert(a: &Args) -> JsResult<Value> {
    a.expect(3)?;
    let obj = a.this_mut::<TrieObject>()?;
    a.string_into(0, "filter", &mut obj.text)?;
    let id = a.i32(1, "id")?;
    let options = a.i32(2, "options")?;
    let added = obj.trie.insert(&obj.text, id, options);
    a.env().boolean(added)
}

/// remove(filter: string, id: number): boolean
fn remove(a: &Args) -> JsResult<Value> {
    a.expect(2)?;
    let obj = a.this_mut::<TrieObject>()?;
    a.string_into(0, "filter", &mut obj.text)?;
    let id = a.i32(1, "id")?;
    let removed = obj.trie.remove(&obj.text, id);
    a.env().boolean(removed)
}

/// removeQuiet(filter: string, id: number): boolean — inside beginBulk()/endBulk().
fn remove_quiet(a: &Args) -> JsResult<Value> {
    a.expect(2)?;
    let obj = a.this_mut::<TrieObject>()?;
    a.string_into(0, "filter", &mut obj.text)?;
    let id = a.i32(1, "id")?;
    let removed = obj.trie.remove_quiet(&obj.text, id);
    a.env().boolean(removed)
}

fn begin_bulk(a: &Args) -> JsResult<Value> {
    a.this_mut::<TrieObject>()?.trie.begin_bulk();
    a.env().undefined()
}

/// endBulk(removed: number)
fn end_bulk(a: &Args) -> JsResult<Value> {
    a.expect(1)?;
    let obj = a.this_mut::<TrieObject>()?;
    let removed = a.u32(0, "removed")?;
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

/// matchInto(topic: string, out: Int32Array): number of pairs (written only if they fit)
fn match_into(a: &Args) -> JsResult<Value> {
    a.expect(2)?;
    let obj = a.this_mut::<TrieObject>()?;
    a.string_into(0, "topic", &mut obj.text)?;
    let out = a.i32_array_mut(1, "out", &[])?;
    let n = deliver(obj.trie.match_topic(&obj.text), out);
    a.env().uint32(n)
}

/// matchBytesInto(buf: Uint8Array, start: number, end: number, out: Int32Array): number of pairs
fn match_bytes_into(a: &Args) -> JsResult<Value> {
    a.expect(4)?;
    let obj = a.this_mut::<TrieObject>()?;
    let buf = a.u8_array(0, "buf")?;
    let start = a.u32(1, "start")? as usize;
    let end = a.u32(2, "end")? as usize;
    if start > end || end > buf.len() {
        return Err(crate::napi::JsError::Range(format!(
            "matchBytesInto: range [{start}, {end}) is outside buf (length {})",
            buf.len()
        )));
    }
    let out = a.i32_array_mut(3, "out", buf)?;
    let n = deliver(obj.trie.match_topic(&buf[start..end]), out);
    a.env().uint32(n)
}

fn clear_cache(a: &Args) -> JsResult<Value> {
    a.this_mut::<TrieObject>()?.trie.clear_cache();
    a.env().undefined()
}

/// nodeCount(): live trie nodes, for memory reports.
fn node_count(a: &Args) -> JsResult<Value> {
    let (nodes, _) = a.this_mut::<TrieObject>()?.trie.stats();
    a.env().double(nodes as f64)
}

fn get_size(a: &Args) -> JsResult<Value> {
    let n = a.this_mut::<TrieObject>()?.trie.size();
    a.env().uint32(n)
}

fn get_generation(a: &Args) -> JsResult<Value> {
    let g = a.this_mut::<TrieObject>()?.trie.generation();
    a.env().double(g as f64)
}

fn get_cache_size(a: &Args) -> JsResult<Value> {
    let n = a.this_mut::<TrieObject>()?.trie.cache_len();
    a.env().uint32(n as u32)
}

js_function!(construct_cb, "NativeTopicTrie", construct);
js_function!(insert_cb, "insert", insert);
js_function!(remove_cb, "remove", remove);
js_function!(remove_quiet_cb, "removeQuiet", remove_quiet);
js_function!(begin_bulk_cb, "beginBulk", begin_bulk);
js_function!(end_bulk_cb, "endBulk", end_bulk);
js_function!(match_into_cb, "matchInto", match_into);
js_function!(match_bytes_into_cb, "matchBytesInto", match_bytes_into);
js_function!(clear_cache_cb, "clearCache", clear_cache);
js_function!(node_count_cb, "nodeCount", node_count);
js_function!(get_size_cb, "size", get_size);
js_function!(get_generation_cb, "generation", get_generation);
js_function!(get_cache_size_cb, "cacheSize", get_cache_size);

/// Defines the NativeTopicTrie class.
pub fn define(env: crate::napi::Env) -> JsResult<Value> {
    env.class(
        "NativeTopicTrie",
        construct_cb,
        &[
            ("insert", insert_cb),
            ("remove", remove_cb),
            ("removeQuiet", remove_quiet_cb),
            ("beginBulk", begin_bulk_cb),
            ("endBulk", end_bulk_cb),
            ("matchInto", match_into_cb),
            ("matchBytesInto", match_bytes_into_cb),
            ("clearCache", clear_cache_cb),
            ("nodeCount", node_count_cb),
        ],
        &[("size", get_size_cb), ("generation", get_generation_cb), ("cacheSize", get_cache_size_cb)],
    )
}
