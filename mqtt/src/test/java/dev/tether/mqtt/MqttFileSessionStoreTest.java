package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MqttFileSessionStoreTest {

    @TempDir
    Path dir;

    @Test
    void keepsPublishesTheirIdsAndPubrelStateAcrossReopen() {
        Path file = dir.resolve("s.mv");
        MqttMessage a = MqttMessage.builder("t/a").payload("a".getBytes()).qos(MqttQos.AT_LEAST_ONCE).retain(true)
                .contentType("text/plain").userProperty("k", "v").build();
        MqttMessage b = MqttMessage.of("t/b", "b", MqttQos.EXACTLY_ONCE);
        MqttMessage c = MqttMessage.of("t/c", "c", MqttQos.AT_LEAST_ONCE);
        MqttMessage d = MqttMessage.of("t/d", "d", MqttQos.EXACTLY_ONCE);
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            assertThat(s.open("client-1")).isEmpty();
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
            List<MqttSessionStore.StoredPublish> held = s.open("client-1");
            assertThat(held).extracting(MqttSessionStore.StoredPublish::message).containsExactly(a, b, d);
            assertThat(held).extracting(MqttSessionStore.StoredPublish::packetId).containsExactly(5, 7, 0);
            assertThat(held).extracting(MqttSessionStore.StoredPublish::released).containsExactly(false, true, false);
            assertThat(s.inboundAwaitingPubrel()).containsExactly(4);
            long next = s.add(c);
            assertThat(next).isGreaterThan(held.get(2).key());
        }
    }

    @Test
    void refusesAStoreOfAnotherClientIdAndLeavesItAsItIs() throws Exception {
        Path file = dir.resolve("s.mv");
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            s.open("client-1");
            s.add(MqttMessage.of("t", "x", MqttQos.AT_LEAST_ONCE));
        }
        byte[] before = Files.readAllBytes(file);
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            assertThatThrownBy(() -> s.open("client-2")).isInstanceOf(MqttSessionStoreException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("'client-1'")
                    .hasMessageContaining("'client-2'");
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            assertThat(s.open("client-1")).hasSize(1);
        }
    }

    @Test
    void refusesASecondOpenOfTheSameFile() {
        Path file = dir.resolve("s.mv");
        try (MqttSessionStore first = MqttSessionStore.file(file); MqttSessionStore second = MqttSessionStore.file(file)) {
            first.open("client-1");
            assertThatThrownBy(() -> second.open("client-1")).isInstanceOf(MqttSessionStoreException.class)
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
            assertThatThrownBy(() -> s.open("client-1")).isInstanceOf(MqttSessionStoreException.class)
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
            assertThatThrownBy(() -> s.open("client-1")).isInstanceOf(MqttSessionStoreException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("not a Tether session store");
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
    }

    /**
     * Needs a small file system, e.g. {@code mount -t tmpfs -o size=256k tmpfs /tmp/tinyfs} and
     * {@code -Dtether.smallFilesystem=/tmp/tinyfs}.
     */
    @Test
    @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "tether.smallFilesystem", matches = ".+")
    void aFullDiskFailsThePublishThatCouldNotBeStoredAndKeepsWhatWasCommitted() throws Exception {
        Path file = Path.of(System.getProperty("tether.smallFilesystem")).resolve("full-" + System.nanoTime() + ".mv");
        MqttMessage m = MqttMessage.of("t", new byte[1000], MqttQos.AT_LEAST_ONCE);
        int stored = 0;
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            s.open("client-1");
            MqttSessionStoreException full = null;
            for (int i = 0; i < 1_000_000 && full == null; i++) {
                try {
                    s.add(m);
                    stored++;
                } catch (MqttSessionStoreException e) {
                    full = e;
                }
            }
            assertThat(full).isNotNull();
            assertThat(full).hasMessageContaining(file.toString()).hasMessageContaining("disk full");
            // MVStore stopped after the failed write: later publishes fail with a clear error, nothing is reopened.
            assertThatThrownBy(() -> s.add(m)).isInstanceOf(MqttSessionStoreException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("stopped after a failed write");
        } finally {
            try (MqttSessionStore s = MqttSessionStore.file(file)) {
                assertThat(s.open("client-1")).as("every publish that was stored").hasSize(stored);
            }
            Files.deleteIfExists(file);
        }
    }

    @Test
    void builderNamesTheBadValue() {
        assertThatThrownBy(() -> MqttFileSessionStore.builder(dir.resolve("x")).groupCommit(java.time.Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT0S");
    }
}
