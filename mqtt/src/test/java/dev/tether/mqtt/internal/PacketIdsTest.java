package dev.tether.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The packet identifier allocator: in turn from 1, wrapping after 65535, skipping ids in use, 0 when exhausted. */
class PacketIdsTest {

    @Test
    void handsOutIdsInTurnFromOne() {
        PacketIds ids = new PacketIds();

        assertThat(ids.allocate()).isEqualTo(1);
        assertThat(ids.allocate()).isEqualTo(2);
        assertThat(ids.allocate()).isEqualTo(3);
        assertThat(ids.inUse()).isEqualTo(3);
    }

    @Test
    void aReleasedIdIsNotReusedAtOnce() {
        PacketIds ids = new PacketIds();
        int first = ids.allocate();
        ids.release(first);

        assertThat(ids.allocate()).isEqualTo(2);
        assertThat(ids.isInUse(first)).isFalse();
        assertThat(ids.inUse()).isEqualTo(1);
    }

    @Test
    void wrapsAfter65535() {
        PacketIds ids = new PacketIds();
        for (int i = 1; i <= PacketIds.MAX; i++) {
            assertThat(ids.allocate()).isEqualTo(i);
            ids.release(i);
        }

        assertThat(ids.allocate()).isEqualTo(1);
        assertThat(ids.allocate()).isEqualTo(2);
    }

    @Test
    void skipsIdsInUse() {
        PacketIds ids = new PacketIds();
        int one = ids.allocate();
        int two = ids.allocate();
        int three = ids.allocate();
        ids.release(two);
        for (int i = 4; i <= PacketIds.MAX; i++) {
            ids.release(ids.allocate());
        }

        // After wrapping, 1 and 3 are still in use: 2 is the next free id, then 4.
        assertThat(ids.allocate()).isEqualTo(two);
        assertThat(ids.allocate()).isEqualTo(4);
        assertThat(ids.isInUse(one)).isTrue();
        assertThat(ids.isInUse(three)).isTrue();
    }

    @Test
    void returnsZeroWhenEveryIdIsInUse() {
        PacketIds ids = new PacketIds();
        for (int i = 1; i <= PacketIds.MAX; i++) {
            assertThat(ids.allocate()).isEqualTo(i);
        }

        assertThat(ids.inUse()).isEqualTo(PacketIds.MAX);
        assertThat(ids.allocate()).isZero();
        assertThat(ids.allocate()).isZero();

        ids.release(40_000);
        assertThat(ids.allocate()).isEqualTo(40_000);
        assertThat(ids.allocate()).isZero();
    }

    @Test
    void releasingAnIdNotInUseDoesNothing() {
        PacketIds ids = new PacketIds();
        ids.allocate();
        ids.release(7);

        assertThat(ids.inUse()).isEqualTo(1);
        assertThat(ids.allocate()).isEqualTo(2);
    }
}
