// Every byte offset that more than one thread (or a future snapshot writer)
// relies on is declared here and nowhere else. README.md beside this file draws
// the same layouts; keep both in step.

// ---------------------------------------------------------------------------
// Mailbox rings (one request ring front -> shard, one reply ring shard -> front)
// ---------------------------------------------------------------------------

/** Bytes of the ring header; data starts right after it. */
export const RING_HEADER_BYTES = 256;
/** Int32 index of the producer's published position (bytes written, wraps at 2^32). Own cache line. */
export const RING_TAIL = 0;
/** Int32 index of the consumer's position (bytes consumed). Own cache line. */
export const RING_HEAD = 16;
/** Int32 index bumped by the producer after each publish; the consumer parks on it with Atomics.wait(Async). */
export const RING_SIGNAL = 32;
/** Int32 index: 1 while the consumer is parked (or about to), so the producer knows a notify is needed. */
export const RING_CONSUMER_PARKED = 33;
/** Int32 index bumped by the consumer after it frees space; a producer waiting for room parks on it. */
export const RING_SPACE_SIGNAL = 48;
/** Int32 index: 1 while the producer waits for room. */
export const RING_PRODUCER_WAITING = 49;
/** Records are aligned to this many bytes. */
export const RING_ALIGN = 8;
/** Record header: u32 total record length (header included, before alignment padding). */
export const REC_LEN = 0;
/** A record with this length bit set is padding up to the end of the ring: skip to offset 0. */
export const REC_PAD_FLAG = 0x80000000;

// Request record (front -> shard), after REC_LEN:
/** u16 opcode: index in the shard command table, or an internal opcode (>= OP_INTERNAL_BASE). */
export const REQ_OPCODE = 4;
/** u16 database index (so `databases` can go up to MAX_DATABASES). */
export const REQ_DB = 6;
/** u32 number of arguments (argv[0] included). */
export const REQ_ARGC = 8;
/** u8 flags: REQF_*. */
export const REQ_FLAGS = 12;
/**
 * u24 order field (bytes 13-15), meaningful only with REQF_ORDERED or
 * REQF_AFTER, i.e. when several front threads feed the shard (io-threads > 1):
 * with REQF_ORDERED it is the record's ticket (the shard runs it when exactly
 * that many ordered records have run before it); with REQF_AFTER it is how
 * many tickets had been issued for this shard when the front wrote the record
 * (the shard runs it once at least that many ordered records have run).
 * Counted modulo ORDER_TICKET_MODULUS. See docs/architecture.md, "One order
 * across front threads".
 */
export const REQ_ORDER = 13;
/** First argument: u32 length then the bytes, arguments packed back to back. */
export const REQ_ARGS = 16;

/** Bytes of a request record holding `count` arguments of these lengths. */
export function requestRecordBytes(len: ArrayLike<number>, count: number): number {
  let bytes = REQ_ARGS + 4 * count;
  for (let k = 0; k < count; k++) bytes += len[k];
  return bytes;
}
/** The most databases a request record can name (REQ_DB is a u16). */
export const MAX_DATABASES = 65536;
export const REQF_RESP3 = 1;
/** CLIENT NO-TOUCH: reads do not update the LRU/LFU clock. */
export const REQF_NO_TOUCH = 2;
/** The record's real payload is too large for the ring and travels over the side port. */
export const REQF_LARGE = 4;
/**
 * Part of a multi-shard write that the front admitted: the shard may dip into
 * its memory reserve for it, so that every part of the write succeeds or none
 * was sent (see docs/architecture.md, "Memory exhaustion").
 */
export const REQF_MAY_USE_RESERVE = 8;
/** A part of a multi-shard command: REQ_ORDER is its ticket on this shard (runs in ticket order). */
export const REQF_ORDERED = 16;
/** REQ_ORDER is the tickets issued when it was written: it runs after those ordered records. */
export const REQF_AFTER = 32;
/** Tickets and order fields count modulo this (REQ_ORDER is 24 bits). */
export const ORDER_TICKET_MODULUS = 1 << 24;

// Reply record (shard -> front), after REC_LEN:
/** u32 flags: REPF_* */
export const REP_FLAGS = 4;
/** The RESP bytes of the reply start here. */
export const REP_BODY = 8;
/** The reply is too large for the ring and travels over the side port. */
export const REPF_LARGE = 1;
/**
 * The command was slow (slow log): a trailer ends the record, after the RESP
 * bytes (or right after the header for a LARGE reply):
 *   u32 argc, argc x (u32 length, bytes), f64 duration in µs, u32 trailer bytes.
 * The last two are read from the record's end.
 */
export const REPF_SLOW = 2;
/** From the record's end: u32 size of the whole trailer. */
export const SLOW_TRAILER_SIZE_FROM_END = 4;
/** From the record's end: f64 duration in microseconds. */
export const SLOW_TRAILER_DURATION_FROM_END = 12;
/**
 * Blocked clients (BLPOP...) were served after the command, or a key's first
 * waiter is for the front to serve (commands/blocking.ts): a trailer ends the
 * record, after the RESP bytes and after the slow-log trailer when there is one:
 *   u32 count, count x entry, u32 trailer bytes; an entry is
 *   u32 1, u32 token, u32 length, reply bytes (served), or
 *   u32 2, u32 db, u32 token, u32 key length, key bytes (for the front), or
 *   u32 3, u32 token, u32 0 (served, the reply bytes over the side port).
 */
export const REPF_READY = 4;
/** From the record's end: u32 size of the whole blocked-clients trailer. */
export const READY_TRAILER_SIZE_FROM_END = 4;
/**
 * A record no request asked for (it answers nothing in the FIFO): the shard
 * pushes it to a front thread whose clients were served by another front's
 * write (blocked pops woken by a push from any thread). Its body is empty and
 * it carries a REPF_READY trailer.
 */
export const REPF_PUSH = 8;

// ---------------------------------------------------------------------------
// Order block: one Int32Array shared by every front thread (io-threads)
// ---------------------------------------------------------------------------
/** Int32 index of the spin lock held while a front takes tickets on several shards at once. */
export const ORDER_LOCK = 0;
/** Int32 index of the next client id (CLIENT ID is unique across front threads). Own cache line. */
export const ORDER_NEXT_CLIENT_ID = 16;
/** Int32 index of the number of connected clients over every front (maxclients). */
export const ORDER_CONNECTED_CLIENTS = 17;
/** Int32 index of the next slow log entry id (SLOWLOG ids are unique across front threads). */
export const ORDER_NEXT_SLOWLOG_ID = 18;
/** Int32 index of shard s's ticket counter: ORDER_TICKETS + 16 * s (one cache line each). */
export const ORDER_TICKETS = 32;
/** Most front threads (io-threads); a blocked-pop token's low bits name its front. */
export const MAX_FRONT_THREADS = 64;
/**
 * Byte offset, after the ticket counters, of a Float64 slot per front thread:
 * the bytes its clients' query and output buffers hold (used_memory counts
 * every front's).
 */
export function orderFrontBuffersOffset(shards: number): number {
  return (ORDER_TICKETS + 16 * shards) * 4;
}
/** Bytes of the order block for `shards` shards and `fronts` front threads. */
export function orderBlockBytes(shards: number, fronts: number): number {
  return orderFrontBuffersOffset(shards) + 8 * fronts;
}

// ---------------------------------------------------------------------------
// Shard statistics block (written by the shard, read by the front for INFO)
// ---------------------------------------------------------------------------
/** Float64 slots. */
export const STAT_USED_BYTES = 0;        // bytes handed out by the allocator (entries + index tables); stored at the end of every batch
export const STAT_ARENA_COMMITTED = 1;   // bytes of the arena ever touched (high-water mark of slabs)
export const STAT_EXPIRED_KEYS = 2;      // keys removed because their TTL passed (lazy + active)
export const STAT_EXPIRE_CYCLE_MS = 3;   // total time spent in the active expire cycle
export const STAT_KEYSPACE_HITS = 4;
export const STAT_KEYSPACE_MISSES = 5;
export const STAT_COMMANDS = 6;          // commands executed by this shard
export const STAT_REHASHING = 7;         // number of databases with a resize in progress
export const STAT_CPU_USER_US = 8;       // shard thread CPU (from process.threadCpuUsage)
export const STAT_CPU_SYS_US = 9;
export const STAT_HEAP_USED = 10;       // V8 heap used by the shard thread (proves the keyspace lives off-heap)
export const STAT_ARENA_CAPACITY = 11;   // bytes of the arena
/**
 * Cumulative bytes (REC_LEN) of denyoom request records this shard has taken
 * off its ring, run or refused with -OOM. Written at the end of every batch,
 * after STAT_USED_BYTES, so that the front can bound what the records it sent
 * but the shard has not run yet may still allocate.
 */
export const STAT_WRITE_BYTES_DONE = 12;
/** Bytes the shard keeps for admitted multi-shard writes (REQF_MAY_USE_RESERVE): min(64 MiB, capacity / 16), stored once at start. */
export const STAT_RESERVE_BYTES = 13;
/**
 * The reserve a shard with an arena of `capacity` bytes keeps back from
 * unflagged denyoom commands: min(64 MiB, capacity / 16). The front sizes arenas
 * with it and the shard enforces it, so both read it from here.
 */
export function shardReserveBytes(capacity: number): number {
  return Math.min(64 * 1024 * 1024, Math.floor(capacity / 16));
}
/** Values (and records of flushed databases) waiting in the shard's lazy-free queue (INFO lazyfree_pending_objects). */
export const STAT_LAZYFREE_PENDING = 14;
/** Objects freed through the lazy-free queue since start (INFO lazyfreed_objects). */
export const STAT_LAZYFREED_OBJECTS = 15;
/** Per database d: keys at STAT_DB_BASE + 2d, keys with a TTL at STAT_DB_BASE + 2d + 1. */
export const STAT_DB_BASE = 16;
/**
 * The STAT_WRITE_BYTES_DONE of the records front thread `front` sent (each
 * front admits writes against its own bytes in flight): front 0's is
 * STAT_WRITE_BYTES_DONE, the others' follow the databases.
 */
export function statWriteDoneOfFront(databases: number, front: number): number {
  return front === 0 ? STAT_WRITE_BYTES_DONE : STAT_DB_BASE + 2 * databases + front - 1;
}
/**
 * With several front threads, after those: the denyoom request bytes each
 * front has sent (written by that front; a front admits a multi-shard write
 * against what every front has in flight).
 */
export function statSentOfFront(databases: number, fronts: number, front: number): number {
  return STAT_DB_BASE + 2 * databases + fronts - 1 + front;
}
/** Float64 slots of a shard's statistics block for `databases` databases and `fronts` front threads. */
export function statSlots(databases: number, fronts = 1): number {
  return STAT_DB_BASE + 2 * databases + (fronts === 1 ? 0 : 2 * fronts - 1);
}

// ---------------------------------------------------------------------------
// Arena: one fixed-size SharedArrayBuffer per shard, carved into slabs
// ---------------------------------------------------------------------------
/** Slab (page) size; small size classes are carved out of whole slabs. */
export const SLAB_BYTES = 64 * 1024;
export const SLAB_SHIFT = 16;
/** All allocations are aligned to 8 bytes; address 0 is never handed out (null). */
export const ALLOC_ALIGN = 8;
/**
 * References stored inside the arena (index slots, free-list links, the value
 * address of non-inline types) are u32 counts of this many bytes, so a u32
 * reaches 32 GiB. In JavaScript an address is always a plain byte number.
 */
export const REF_UNIT_BYTES = ALLOC_ALIGN;
/**
 * Largest arena a shard can address: a u32 reference in REF_UNIT_BYTES units
 * reaches 32 GiB. Arena sizing and `shard-arena-mb` read it from here (the
 * machine may still refuse a SharedArrayBuffer that large: sizing must also
 * respect its memory).
 */
export const MAX_ARENA_BYTES = 32 * 1024 * 1024 * 1024;
/** Largest request served from a size class; larger ones take whole runs of slabs. */
export const MAX_SMALL_ALLOC = 32 * 1024;

// ---------------------------------------------------------------------------
// Hash index: open addressing over groups of 8 slots
// ---------------------------------------------------------------------------
export const GROUP_SLOTS = 8;
export const GROUP_BYTES = 48;
/** u8 x 8: slot tags. 0 empty, 1 deleted (tombstone), >= 2 full (top byte of the hash, forced >= 2). */
export const GROUP_TAGS = 0;
export const TAG_EMPTY = 0;
export const TAG_DELETED = 1;
/** u8: bit i set when slot i's entry carries an expiry (lets the expire cycle skip groups cheaply). */
export const GROUP_VOLATILE_MASK = 8;
/** u32: version of the group's last change (compared against a snapshot's epoch). */
export const GROUP_VERSION = 12;
/** u32 x 8: the entries' addresses, in REF_UNIT_BYTES units. */
export const GROUP_REFS = 16;

/**
 * Header of a hash index owned by a collection (a hash, set or sorted set in
 * its hashtable encoding): the index's state lives in the arena, so the
 * collection is named by one ref and a reusable HashIndex view is attached to
 * it per operation (src/store/hash-index.ts). The keyspace's own per-database
 * indexes keep this state in JavaScript instead. Every u32; table bases are
 * refs (REF_UNIT_BYTES units), 0 when there is no old table.
 */
export const HIDX_CUR_BASE = 0;
export const HIDX_CUR_GROUPS = 4;
export const HIDX_CUR_FULL = 8;
export const HIDX_CUR_DELETED = 12;
export const HIDX_OLD_BASE = 16;
export const HIDX_OLD_GROUPS = 20;
export const HIDX_OLD_FULL = 24;
export const HIDX_OLD_DELETED = 28;
/** Next group of the old table to move (incremental rehash). */
export const HIDX_REHASH_IDX = 32;
/** Bit 0: growth failed for want of memory (retried once whole free slabs could hold it). */
export const HIDX_FLAGS = 36;
export const HIDX_HEADER_BYTES = 40;

// ---------------------------------------------------------------------------
// Entry record: one allocation per key
// ---------------------------------------------------------------------------
/** u32: the key's 32-bit index hash (kept so resizes and SCAN never rehash key bytes). */
export const ENTRY_HASH = 0;
/** u32: bits 0-23 LRU clock (seconds, 24 bits) or LFU (16-bit minutes + 8-bit counter); 24-27 type; 28-30 encoding; 31 has-expiry. */
export const ENTRY_META = 4;
/** u32: key length in bytes. */
export const ENTRY_KEYLEN = 8;
/** u32: inline string: value length; other types: address of the value structure, in REF_UNIT_BYTES units. */
export const ENTRY_VALUE = 12;
/** Float64 absolute expiry in unix ms, present only when the has-expiry bit is set. */
export const ENTRY_EXPIRE = 16;
export const ENTRY_HEADER_BYTES = 16;
export const ENTRY_EXPIRE_BYTES = 8;

export const META_LRU_MASK = 0x00ffffff;
export const META_TYPE_SHIFT = 24;
export const META_ENC_SHIFT = 28;
export const META_EXPIRE_BIT = 0x80000000;

// Value types (META type field). Numbering is Sabre's own, not RDB's.
export const TYPE_NONE = 0;
export const TYPE_STRING = 1;
export const TYPE_LIST = 2;
export const TYPE_SET = 3;
export const TYPE_ZSET = 4;
export const TYPE_HASH = 5;
export const TYPE_STREAM = 6;

// String encodings (META encoding field), as OBJECT ENCODING reports them.
export const ENC_RAW = 0;
export const ENC_INT = 1;
export const ENC_EMBSTR = 2;

// List encodings (META encoding field). Redis 7.0 reports every list as quicklist.
export const ENC_QUICKLIST = 0;

// ---------------------------------------------------------------------------
// List: a header record, then a doubly linked chain of nodes of packed elements
// (src/store/list.ts). ENTRY_VALUE of a TYPE_LIST entry is the header's ref.
// ---------------------------------------------------------------------------
/** u32: number of elements. */
export const LIST_COUNT = 0;
/** u32: number of nodes. */
export const LIST_NODES = 4;
/** u32: ref of the first node (REF_UNIT_BYTES units), 0 when empty. */
export const LIST_HEAD = 8;
/** u32: ref of the last node, 0 when empty. */
export const LIST_TAIL = 12;
export const LIST_HEADER_BYTES = 16;
/** u32: ref of the previous node, 0 for the first. */
export const LNODE_PREV = 0;
/** u32: ref of the next node, 0 for the last. */
export const LNODE_NEXT = 4;
/** u32: number of elements in the node. */
export const LNODE_COUNT = 8;
/** u32: bytes of packed elements. */
export const LNODE_USED = 12;
/**
 * u32: free bytes between the header and the first element. Head pops and
 * pushes move this edge instead of the elements (bytes copies in a
 * SharedArrayBuffer cost about 0.3 ns each, 2.7 µs per 8 KB node).
 */
export const LNODE_SKIP = 16;
/** The node's element area starts here (bytes 20-23 are padding); elements start LNODE_SKIP bytes into it. Each element is a u32 little-endian length, then its bytes (no padding). */
export const LNODE_HEADER_BYTES = 24;
/** Bytes of an element's length prefix inside a node. */
export const LNODE_ELEMENT_PREFIX = 4;

// ---------------------------------------------------------------------------
// Sorted set (TYPE_ZSET, src/store/zset.ts). ENTRY_VALUE of a TYPE_ZSET entry
// is the ref of a zset header. Two encodings: a listpack (one block of packed
// entries ordered by (score, member)) and a skiplist (nodes with span counts,
// plus a member index: a HashIndex attached to the set, over the nodes).
// ---------------------------------------------------------------------------
// Sorted-set encodings (META encoding field and ZSET_ENCODING).
export const ENC_ZSET_LISTPACK = 0;
export const ENC_ZSET_SKIPLIST = 1;
/** u32: number of members. */
export const ZSET_COUNT = 0;
/** u32: ENC_ZSET_LISTPACK or ENC_ZSET_SKIPLIST. */
export const ZSET_ENCODING = 4;
/** u32: listpack: ref of the entry block (0 when empty); skiplist: ref of the head node. */
export const ZSET_FIRST = 8;
/** u32: listpack: bytes of packed entries in the block; skiplist: ref of the last node (0 when empty). */
export const ZSET_LAST = 12;
/** u32: skiplist: number of levels in use (1..ZSL_MAX_LEVEL). */
export const ZSET_LEVEL = 16;
/** u32: skiplist: ref of the member index's header (HIDX_*: a HashIndex over the nodes, keyed by member). */
export const ZSET_TABLE = 20;
/** u32: unused (0). */
export const ZSET_RESERVED = 24;
export const ZSET_HEADER_BYTES = 32;
// Listpack entry (8-aligned inside the block). Length and score sit where a
// skiplist node has them, so readers of a position need not know the encoding.
/** u32: bytes of the previous entry (0 for the first), so the block walks backwards. */
export const ZLP_PREV = 0;
/** u32: member length. */
export const ZLP_LEN = 4;
/** f64: the score. */
export const ZLP_SCORE = 8;
/** Member bytes start here; the entry is padded to a multiple of 8. */
export const ZLP_MEMBER = 16;
// Skiplist node (a HashIndex record: it starts with its hash):
/** u32: the member's hash (the member index never rehashes bytes). */
export const ZSL_HASH = 0;
/** u32: member length. */
export const ZSL_LEN = 4;
/** f64: the score. */
export const ZSL_SCORE = 8;
/** u32: ref of the previous node at level 0 (0 for the first). */
export const ZSL_BACKWARD = 16;
/** u32: number of levels of this node. */
export const ZSL_LEVELS = 20;
/** Level i: u32 forward ref at ZSL_LEVEL_BASE + 8i, u32 span at + 4; the member bytes follow the last level. */
export const ZSL_LEVEL_BASE = 24;
export const ZSL_LEVEL_BYTES = 8;
/** Levels of the head node, and the most any node has (Redis's ZSKIPLIST_MAXLEVEL). */
export const ZSL_MAX_LEVEL = 32;
// HyperLogLog: a string value (TYPE_STRING, raw) in Redis 7.0's exact byte
// format, so GET/SET move it between Redis and Sabre (src/store/hll.ts).
// ---------------------------------------------------------------------------
/** 4 bytes: "HYLL". */
export const HLL_MAGIC = 0;
/** u8: HLL_DENSE or HLL_SPARSE. Bytes 5-7 are unused (kept as found). */
export const HLL_ENCODING = 4;
/** u64 LE: cached cardinality; bit 7 of its last byte set = stale. */
export const HLL_CARD = 8;
export const HLL_HEADER_BYTES = 16;
export const HLL_DENSE = 0;
export const HLL_SPARSE = 1;
export const HLL_MAX_ENCODING = 1;
export const HLL_REGISTERS = 16384;
/** Header plus 16384 packed 6-bit registers (12288 bytes). */
export const HLL_DENSE_BYTES = HLL_HEADER_BYTES + (HLL_REGISTERS * 6) / 8;
// Hash (TYPE_HASH, src/store/hash.ts). ENTRY_VALUE of a TYPE_HASH entry is
// the ref of either a listpack block or a hashtable header; the u32 at +4 of
// both holds the field count (bits 0-29) and the kind flags below.
// ---------------------------------------------------------------------------
// Hash encodings (META encoding field), named as Redis 7.4's OBJECT ENCODING.
export const ENC_HASH_LISTPACK = 0;
/** A listpack whose entries carry a field expiry (Redis 7.4's listpackex). */
export const ENC_HASH_LISTPACKEX = 1;
export const ENC_HASH_HASHTABLE = 2;
/** Bit of the count word: the value is a hashtable header (else a listpack block). */
export const HASH_FLAG_TABLE = 0x80000000;
/** Bit of the count word: fields carry expiries (listpack: every entry has 8 more bytes; table: some field has one). */
export const HASH_FLAG_TTL = 0x40000000;
export const HASH_COUNT_MASK = 0x3fffffff;
/** Listpack block: u32 bytes of packed entries. */
export const HLP_USED = 0;
/** u32: count and flags (both kinds). */
export const HASH_COUNT = 4;
/**
 * Listpack block header size. Entries follow, packed: varint field length,
 * field bytes, varint value length, value bytes, and (HASH_FLAG_TTL) a f64
 * little-endian expiry in unix ms, 0 = none. Varints are LEB128 (7 bits a byte).
 */
export const HLP_HEADER_BYTES = 8;
/** Hashtable header: u32 ref of the header of its HashIndex (HIDX_*), which indexes the field records. */
export const HT_INDEX = 0;
/** u32: once unlinked and queued for lazy freeing, the next index group to free (HashIndex.drainGroups cursor; 0 before). Offset 8 is unused. */
export const HT_FREE_CURSOR = 12;
/** f64: no field expires before this (unix ms; 0 = no field has an expiry). A lower bound, made exact by each purge. */
export const HT_MIN_EXPIRE = 16;
/** u32: fields that have an expiry. */
export const HT_TTL_FIELDS = 24;
export const HT_HEADER_BYTES = 32;
/** Field record of a hashtable: u32 hash of the field (the index reads it: records start with their hash). */
export const HF_HASH = 0;
/** u32: field length; bit 31 set when the record has an expiry. */
export const HF_FLEN = 4;
/** u32: value length. */
export const HF_VLEN = 8;
/** Field then value bytes start here without an expiry... */
export const HF_BYTES = 12;
/** ...or here, with the f64 expiry (unix ms) at HF_EXPIRE. */
export const HF_EXPIRE = 16;
export const HF_BYTES_TTL = 24;
// Set: a fixed header record naming one data block (src/store/set.ts).
// ENTRY_VALUE of a TYPE_SET entry is the header's ref; the header never moves,
// so converting between encodings does not touch the entry.
// ---------------------------------------------------------------------------
/** u32: SET_ENC_INTSET, SET_ENC_LISTPACK or SET_ENC_HASHTABLE. */
export const SET_ENC = 0;
/** u32: number of members. */
export const SET_COUNT = 4;
/** u32: ref of the data block (intset array, packed members) or of the HashIndex header (hashtable). */
export const SET_DATA = 8;
/** u32: intset: element width in bytes (2, 4, 8); listpack: bytes of packed members; hashtable: 0 (once queued for lazy freeing: the HashIndex.drainGroups cursor). */
export const SET_AUX = 12;
export const SET_HEADER_BYTES = 16;
/** Sorted little-endian signed integers of SET_AUX bytes each. */
export const SET_ENC_INTSET = 1;
/** Members packed back to back as u32 length + bytes, in insertion order. */
export const SET_ENC_LISTPACK = 2;
/** SET_DATA is the ref of a HashIndex header (HIDX_*) indexing member records. */
export const SET_ENC_HASHTABLE = 3;
/** A hashtable member record: u32 hash, u32 length, then the bytes. */
export const SET_MEMBER_HEADER_BYTES = 8;
