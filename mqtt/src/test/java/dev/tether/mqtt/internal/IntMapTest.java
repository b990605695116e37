package dev.tether.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The primitive-keyed map of packet ids, against a HashMap doing the same operations. */
class IntMapTest {

    @Test
    void randomOperationsAgreeWithAHashMap() {
        for (long seed = 1; seed <= 20; seed++) {
            Random random = new Random(seed);
            IntMap<Integer> map = new IntMap<>();
            Map<Integer, Integer> expected = new HashMap<>();
            // Small key ranges force collisions, wrap-around and back-shifts; the large one spreads.
            int range = seed % 2 == 0 ? 40 : 0xFFFF;
            for (int i = 0; i < 20_000; i++) {
                int key = 1 + random.nextInt(range);
                switch (random.nextInt(3)) {
                    case 0 -> assertThat(map.put(key, i)).isEqualTo(expected.put(key, i));
                    case 1 -> assertThat(map.remove(key)).isEqualTo(expected.remove(key));
                    default -> assertThat(map.get(key)).isEqualTo(expected.get(key));
                }
                assertThat(map.size()).isEqualTo(expected.size());
            }
            for (Map.Entry<Integer, Integer> e : expected.entrySet()) {
                assertThat(map.containsKey(e.getKey())).isTrue();
                assertThat(map.get(e.getKey())).isEqualTo(e.getValue());
            }
            assertThat(map.values()).containsExactlyInAnyOrderElementsOf(expected.values());
        }
    }

    @Test
    void aRunOfSequentialIdsWrapsAroundTheTable() {
        IntMap<String> map = new IntMap<>();
        for (int id = 65_500; id <= 65_535; id++) {
            map.put(id, "x" + id);
        }
        for (int id = 1; id <= 30; id++) {
            map.put(id, "x" + id);
        }
        for (int id = 65_500; id <= 65_535; id += 2) {
            assertThat(map.remove(id)).isEqualTo("x" + id);
        }
        for (int id = 65_501; id <= 65_535; id += 2) {
            assertThat(map.get(id)).isEqualTo("x" + id);
        }
        for (int id = 1; id <= 30; id++) {
            assertThat(map.get(id)).isEqualTo("x" + id);
        }
        assertThat(map.size()).isEqualTo(18 + 30);
        map.clear();
        assertThat(map.isEmpty()).isTrue();
        assertThat(map.get(1)).isNull();
    }

    @Test
    void aSlidingWindowOfSequentialIdsKeepsRunsShort() {
        // What a QoS 1 stream does: 100 ids in flight, the oldest acknowledged, the next one sent, wrapping at 65535.
        IntMap<Integer> map = new IntMap<>();
        int next = 1;
        for (int i = 0; i < 100; i++) {
            map.put(next, next);
            next++;
        }
        int longest = 0;
        for (int i = 0; i < 200_000; i++) {
            int oldest = next - 100 <= 0 ? next - 100 + 0xFFFF : next - 100;
            assertThat(map.remove(oldest)).isEqualTo(oldest);
            map.put(next, next);
            next = next == 0xFFFF ? 1 : next + 1;
            if (i % 997 == 0) {
                longest = Math.max(longest, map.longestRun());
            }
        }
        assertThat(map.size()).isEqualTo(100);
        // With the id as its own index the window was one run of 100 slots, scanned by every removal.
        assertThat(longest).isLessThan(20);
    }

    @Test
    void keysStartAtOne() {
        IntMap<String> map = new IntMap<>();
        assertThatThrownBy(() -> map.put(0, "x")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key must be > 0");
        assertThat(map.get(0)).isNull();
        assertThat(map.remove(0)).isNull();
    }
}
