package dev.tether.mqtt.internal;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A map from packet ids (1 to 65535) to values, with primitive keys: no boxed key and no entry object per
 * mapping, and no arrays at all until the first mapping (an idle client holds two of these). Open addressing
 * with linear probing; a removal shifts the following entries back, so lookups never meet tombstones.
 *
 * <p>Not thread-safe: used under the client's monitor.
 *
 * @param <V> the value type
 */
final class IntMap<V> {

    private static final int[] NO_KEYS = new int[0];
    private static final Object[] NO_VALUES = new Object[0];

    /** 0 marks a free slot: packet ids start at 1. */
    private int[] keys = NO_KEYS;
    private Object[] values = NO_VALUES;
    private int size;

    /** @return the value of the key, or null */
    @SuppressWarnings("unchecked")
    @Nullable V get(int key) {
        int i = indexOf(key);
        return i < 0 ? null : (V) values[i];
    }

    /** @return whether the key is mapped */
    boolean containsKey(int key) {
        return indexOf(key) >= 0;
    }

    /**
     * @param key   a key from 1 to 65535
     * @param value the value
     * @return the previous value, or null
     */
    @SuppressWarnings("unchecked")
    @Nullable V put(int key, V value) {
        if (key <= 0) {
            throw new IllegalArgumentException("key must be > 0, but was " + key);
        }
        if ((size + 1) * 2 > keys.length) {
            resize(Math.max(8, keys.length * 2));
        }
        int mask = keys.length - 1;
        for (int i = hash(key, mask); ; i = (i + 1) & mask) {
            int k = keys[i];
            if (k == 0) {
                keys[i] = key;
                values[i] = value;
                size++;
                return null;
            }
            if (k == key) {
                V old = (V) values[i];
                values[i] = value;
                return old;
            }
        }
    }

    /** @return the removed value, or null if the key was not mapped */
    @SuppressWarnings("unchecked")
    @Nullable V remove(int key) {
        int i = indexOf(key);
        if (i < 0) {
            return null;
        }
        V old = (V) values[i];
        int mask = keys.length - 1;
        // Shift back the entries after the hole that would no longer be found from their home slot.
        int hole = i;
        for (int j = (i + 1) & mask; keys[j] != 0; j = (j + 1) & mask) {
            int home = hash(keys[j], mask);
            boolean movable = hole <= j ? home <= hole || home > j : home <= hole && home > j;
            if (movable) {
                keys[hole] = keys[j];
                values[hole] = values[j];
                hole = j;
            }
        }
        keys[hole] = 0;
        values[hole] = null;
        size--;
        return old;
    }

    /** @return how many keys are mapped */
    int size() {
        return size;
    }

    /** @return whether no key is mapped */
    boolean isEmpty() {
        return size == 0;
    }

    /** @return the values, in no particular order (a copy) */
    @SuppressWarnings("unchecked")
    List<V> values() {
        List<V> out = new ArrayList<>(size);
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != 0) {
                out.add((V) values[i]);
            }
        }
        return out;
    }

    /** What {@link #forEach} calls for each mapping. */
    interface Visitor<V> {
        /**
         * @param key   the key
         * @param value its value
         */
        void visit(int key, V value);
    }

    /** @param visitor called with each mapping, in no particular order; the map must not change meanwhile */
    @SuppressWarnings("unchecked")
    void forEach(Visitor<? super V> visitor) {
        int[] k = keys;
        Object[] v = values;
        for (int i = 0; i < k.length; i++) {
            if (k[i] != 0) {
                visitor.visit(k[i], (V) v[i]);
            }
        }
    }

    /** Removes every mapping, and lets go of the arrays. */
    void clear() {
        keys = NO_KEYS;
        values = NO_VALUES;
        size = 0;
    }

    private int indexOf(int key) {
        if (size == 0 || key <= 0) {
            return -1;
        }
        int mask = keys.length - 1;
        for (int i = hash(key, mask); ; i = (i + 1) & mask) {
            int k = keys[i];
            if (k == key) {
                return i;
            }
            if (k == 0) {
                return -1;
            }
        }
    }

    private void resize(int capacity) {
        int[] oldKeys = keys;
        Object[] oldValues = values;
        keys = new int[capacity];
        values = new Object[capacity];
        int mask = capacity - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            int k = oldKeys[j];
            if (k != 0) {
                int i = hash(k, mask);
                while (keys[i] != 0) {
                    i = (i + 1) & mask;
                }
                keys[i] = k;
                values[i] = oldValues[j];
            }
        }
    }

    /**
     * Fibonacci hashing: the key times 2^32 / golden ratio, the table's index from the product's high bits. Ids are
     * handed out in sequence; with the key itself as its index (as before) a window of ids in flight filled one run
     * of consecutive slots, and removing the oldest one, the run's first slot, scanned the whole run for entries to
     * shift back: about a hundred slots per PUBACK with 100 publishes in flight (21 of 96 event-loop samples in a
     * profile). Scattered, consecutive ids land far apart and the runs stay a few slots long.
     */
    private static int hash(int key, int mask) {
        return (key * 0x9E3779B9) >>> Integer.numberOfLeadingZeros(mask);
    }

    /** @return the longest run of occupied slots (what a removal or a failed lookup may scan); for tests */
    int longestRun() {
        int longest = 0;
        int run = 0;
        // Twice round, so that a run across the end of the table is counted whole.
        for (int n = 0; n < keys.length * 2; n++) {
            run = keys[n % keys.length] != 0 ? run + 1 : 0;
            longest = Math.max(longest, Math.min(run, size));
        }
        return longest;
    }
}
