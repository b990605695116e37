package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import dev.tether.mqtt.test.QuotaFileSystem;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MqttFileSessionStoreTest {

    @TempDir
    Path dir;

    static MqttSessionStore.SessionSettings settings(String clientId) {
        return MqttSessionStore.SessionSettings.of(clientId);
    }

    @Test
    void keepsPublishesTheirIdsAndPubrelStateAcrossReopen() {
        Path file = dir.resolve("s.mv");
        MqttMessage a = MqttMessage.builder("t/a").payload("a".getBytes()).qos(MqttQos.AT_LEAST_ONCE).retain(true)
                .contentType("text/plain").userProperty("k", "v").build();
        MqttMessage b = MqttMessage.of("t/b", "b", MqttQos.EXACTLY_ONCE);
        MqttMessage c = MqttMessage.of("t/c", "c", MqttQos.AT_LEAST_ONCE);
        MqttMessage d = MqttMessage.of("t/d", "d", MqttQos.EXACTLY_ONCE);
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            assertThat(s.open(settings("client-1")).inFlight()).isEmpty();
            long ka = s.add(a);
            long kb = s.add(b);
            long kc = s.add(c);
            long kd = s.add(d);
            s.sent(ka, 5, MqttQos.AT_LEAST_ONCE);
            s.sent(kb, 7, MqttQos.EXACTLY_ONCE);
            s.released(kb);
            s.sent(kc, 9, MqttQos.AT_LEAST_ONCE);
            s.remove(kc);
            s.sent(kd, 0, MqttQos.EXACTLY_ONCE);
            s.inboundAwaitingPubrel(3);
            s.inboundAwaitingPubrel(4);
            s.inboundReleased(3);
        }
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            MqttSessionStore.Contents held = s.open(settings("client-1"));
            assertThat(held.inFlight()).extracting(MqttSessionStore.StoredPublish::message).containsExactly(a, b);
            assertThat(held.inFlight()).extracting(MqttSessionStore.StoredPublish::packetId).containsExactly(5, 7);
            assertThat(held.inFlight()).extracting(MqttSessionStore.StoredPublish::released).containsExactly(false, true);
            assertThat(held.waiting()).isEqualTo(1);
            List<MqttSessionStore.StoredPublish> waiting = s.waiting(0, held.lastKey(), 10);
            assertThat(waiting).extracting(MqttSessionStore.StoredPublish::message).containsExactly(d);
            assertThat(waiting).extracting(MqttSessionStore.StoredPublish::packetId).containsExactly(0);
            assertThat(held.inboundAwaitingPubrel()).containsExactly(4);
            long next = s.add(c);
            assertThat(next).isGreaterThan(held.lastKey());
            assertThat(s.waiting(0, held.lastKey(), 10)).as("only the publishes up to the last key when opened")
                    .extracting(MqttSessionStore.StoredPublish::message).containsExactly(d);
        }
    }

    @Test
    void keepsTheGrantedSubscriptionsWithTheirOptions() {
        Path file = dir.resolve("s.mv");
        MqttSubscription shared = MqttSubscription.builder("$share/g/jobs/#").qos(MqttQos.EXACTLY_ONCE)
                .subscriptionIdentifier(7).build();
        MqttSubscription local = MqttSubscription.builder("a/+").qos(MqttQos.AT_MOST_ONCE).noLocal(true)
                .retainAsPublished(true).subscriptionIdentifier(3).build();
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            assertThat(s.open(settings("client-1")).subscriptions()).isEmpty();
            s.subscribed(shared);
            s.subscribed(local);
            s.subscribed(MqttSubscription.of("gone", MqttQos.AT_LEAST_ONCE));
            s.unsubscribed("gone");
        }
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            assertThat(s.open(settings("client-1")).subscriptions()).containsExactlyInAnyOrder(shared, local);
        }
    }

    @Test
    void pagesTheWaitingPublishesInOrderSkippingThoseWithAPacketId() {
        Path file = dir.resolve("s.mv");
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            s.open(settings("client-1"));
            for (int i = 0; i < 10; i++) {
                long key = s.add(MqttMessage.of("t", Integer.toString(i), MqttQos.AT_LEAST_ONCE));
                if (i % 3 == 0) {
                    s.sent(key, 100 + i, MqttQos.AT_LEAST_ONCE);
                }
            }
        }
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            MqttSessionStore.Contents held = s.open(settings("client-1"));
            assertThat(held.inFlight()).extracting(p -> p.message().payloadAsString()).containsExactly("0", "3", "6", "9");
            assertThat(held.waiting()).isEqualTo(6);
            List<MqttSessionStore.StoredPublish> first = s.waiting(0, held.lastKey(), 4);
            assertThat(first).extracting(p -> p.message().payloadAsString()).containsExactly("1", "2", "4", "5");
            List<MqttSessionStore.StoredPublish> second = s.waiting(first.get(3).key(), held.lastKey(), 4);
            assertThat(second).extracting(p -> p.message().payloadAsString()).containsExactly("7", "8");
        }
    }

    @Test
    void recordsTheSessionSettingsAndReportsTheOnesThatChanged() {
        Path file = dir.resolve("s.mv");
        MqttSessionStore.SessionSettings first = new MqttSessionStore.SessionSettings("client-1", MqttVersion.MQTT_5,
                false, java.time.Duration.ofHours(1), List.of("tcp://127.0.0.1:1883"));
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            assertThat(s.open(first).notices()).isEmpty();
        }
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            assertThat(s.open(first).notices()).as("same settings").isEmpty();
        }
        MqttSessionStore.SessionSettings changed = new MqttSessionStore.SessionSettings("client-1",
                MqttVersion.MQTT_3_1_1, true, java.time.Duration.ofMinutes(5), List.of("ssl://broker.example:8883"));
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            List<String> notices = s.open(changed).notices();
            assertThat(notices).hasSize(4).allSatisfy(n -> assertThat(n).contains(file.toString()));
            assertThat(String.join("\n", notices)).contains("MQTT_5").contains("MQTT_3_1_1").contains("cleanStart(false)")
                    .contains("cleanStart(true)").contains("PT1H").contains("PT5M").contains("tcp://127.0.0.1:1883")
                    .contains("ssl://broker.example:8883");
        }
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            assertThat(s.open(changed).notices()).as("the new settings were recorded").isEmpty();
        }
    }

    @Test
    void refusesAStoreOfAnotherClientIdAndLeavesItAsItIs() throws Exception {
        Path file = dir.resolve("s.mv");
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            s.open(settings("client-1"));
            s.add(MqttMessage.of("t", "x", MqttQos.AT_LEAST_ONCE));
        }
        byte[] before = Files.readAllBytes(file);
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            assertThatThrownBy(() -> s.open(settings("client-2"))).isInstanceOf(MqttSessionStoreException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("'client-1'")
                    .hasMessageContaining("'client-2'");
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            assertThat(s.open(settings("client-1")).waiting()).isEqualTo(1);
        }
    }

    @Test
    void refusesASecondOpenOfTheSameFile() {
        Path file = dir.resolve("s.mv");
        try (MqttSessionStore first = MqttSessionStore.file(file); MqttSessionStore second = MqttSessionStore.file(file)) {
            first.open(settings("client-1"));
            assertThatThrownBy(() -> second.open(settings("client-1"))).isInstanceOf(MqttSessionStoreException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("locked");
        }
    }

    @Test
    void refusesACorruptFileAndLeavesItAsItIs() throws Exception {
        Path file = dir.resolve("s.mv");
        byte[] junk = new byte[10_000];
        new java.util.Random(42).nextBytes(junk);
        Files.write(file, junk);
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            assertThatThrownBy(() -> s.open(settings("client-1"))).isInstanceOf(MqttSessionStoreException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("corrupt");
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(junk);
    }

    @Test
    void refusesAnMvStoreThatIsNotASessionStore() throws Exception {
        Path file = dir.resolve("other.mv");
        MVStore other = MVStore.open(file.toString());
        other.<String, String>openMap("data").put("k", "v");
        other.close();
        byte[] before = Files.readAllBytes(file);
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            assertThatThrownBy(() -> s.open(settings("client-1"))).isInstanceOf(MqttSessionStoreException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("not a Tether session store");
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
    }

    private static MqttFileSessionStore onQuota(Path file, long reserve, java.util.function.LongSupplier space) {
        QuotaFileSystem.register();
        return MqttFileSessionStore.builder(file).mvStoreFileName(QuotaFileSystem.PREFIX + file)
                .freeSpaceReserve(reserve).usableSpace(space).build();
    }

    private static final MqttMessage KB = MqttMessage.of("t", new byte[1000], MqttQos.AT_LEAST_ONCE);

    /** Adds until the store refuses; bounded. */
    private static int fill(MqttSessionStore s, java.util.concurrent.atomic.AtomicReference<MqttSessionStoreException> refused) {
        int stored = 0;
        for (int i = 0; i < 100_000 && refused.get() == null; i++) {
            try {
                s.add(KB);
                stored++;
            } catch (MqttSessionStoreException e) {
                refused.set(e);
            }
        }
        return stored;
    }

    @Test
    void aFullDiskRefusesThePublishBeforeWritingAndLaterOnesAreStoredOnceThereIsRoom() {
        Path file = dir.resolve("quota.mv");
        QuotaFileSystem.quota(512 * 1024);
        java.util.concurrent.atomic.AtomicReference<MqttSessionStoreException> refused = new java.util.concurrent.atomic.AtomicReference<>();
        int stored;
        try (MqttFileSessionStore s = onQuota(file, 64 * 1024, QuotaFileSystem::free)) {
            s.open(settings("client-1"));
            stored = fill(s, refused);
            assertThat(refused.get()).hasMessageContaining(file.toString()).hasMessageContaining("disk full")
                    .hasMessageContaining("stored again once there is room");
            assertThat(stored).isPositive();
            assertThat(s.recoveries()).as("no write failed: the reserve refused first").isZero();
            QuotaFileSystem.quota(8 * 1024 * 1024); // space was freed
            s.add(KB);
            s.add(KB);
        } finally {
            QuotaFileSystem.quota(Long.MAX_VALUE);
        }
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            assertThat(s.open(settings("client-1")).waiting()).as("every publish that was stored").isEqualTo(stored + 2);
        }
    }

    @Test
    void aWriteThatFailsStopsMVStoreAndTheNextPublishOpensItAgainOnceThereIsRoomKeepingWhatWasCommitted() {
        Path file = dir.resolve("quota-write.mv");
        QuotaFileSystem.quota(256 * 1024);
        // The file system does not say it is full (a quota, another writer): the write itself fails.
        java.util.concurrent.atomic.AtomicLong reported = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
        java.util.concurrent.atomic.AtomicReference<MqttSessionStoreException> refused = new java.util.concurrent.atomic.AtomicReference<>();
        int stored;
        try (MqttFileSessionStore s = onQuota(file, 1, reported::get)) {
            s.open(settings("client-1"));
            stored = fill(s, refused);
            assertThat(refused.get()).hasMessageContaining(file.toString()).hasMessageContaining("disk full");
            // Now it says so: the stopped store is not opened again while there is no room.
            reported.set(0);
            assertThatThrownBy(() -> s.add(KB)).isInstanceOf(MqttSessionStoreException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("stopped after a failed write");
            assertThat(s.recoveries()).isZero();
            QuotaFileSystem.quota(8 * 1024 * 1024);
            reported.set(Long.MAX_VALUE);
            for (int i = 0; i < 10; i++) {
                s.add(KB);
            }
            assertThat(s.recoveries()).as("opened again once, by the first publish after space was freed").isEqualTo(1);
        } finally {
            QuotaFileSystem.quota(Long.MAX_VALUE);
        }
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            assertThat(s.open(settings("client-1")).waiting()).as("every publish that was stored, none lost")
                    .isEqualTo(stored + 10);
        }
    }

    /**
     * The same on a real full file system, which needs root to mount: e.g. {@code mount -t tmpfs -o size=256k tmpfs
     * /tmp/tinyfs} and {@code -Dtether.smallFilesystem=/tmp/tinyfs}.
     */
    @Test
    @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "tether.smallFilesystem", matches = ".+")
    void aRealFullDiskFailsThePublishThatCouldNotBeStoredAndLaterOnesOnceThereIsRoom() throws Exception {
        Path small = Path.of(System.getProperty("tether.smallFilesystem"));
        Path file = small.resolve("full-" + System.nanoTime() + ".mv");
        Path filler = small.resolve("filler-" + System.nanoTime());
        Files.write(filler, new byte[64 * 1024]);
        java.util.concurrent.atomic.AtomicReference<MqttSessionStoreException> refused = new java.util.concurrent.atomic.AtomicReference<>();
        int stored;
        try (MqttSessionStore s = MqttFileSessionStore.builder(file).freeSpaceReserve(16 * 1024).build()) {
            s.open(settings("client-1"));
            stored = fill(s, refused);
            assertThat(refused.get()).hasMessageContaining(file.toString()).hasMessageContaining("disk full");
            Files.delete(filler);
            s.add(KB);
            for (int i = 0; i < 20; i++) {
                s.remove(s.add(KB)); // a client goes on: publishes come and go
            }
        } finally {
            Files.deleteIfExists(filler);
        }
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            assertThat(s.open(settings("client-1")).waiting()).as("every publish that was stored").isEqualTo(stored + 1);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void builderNamesTheBadValue() {
        assertThatThrownBy(() -> MqttFileSessionStore.builder(dir.resolve("x")).groupCommit(java.time.Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT0S");
    }
}
