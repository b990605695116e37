package dev.tether.benchmarks.internal;

import dev.tether.mqtt.MqttFileSessionStore;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttSessionStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The session store's work per QoS 1 message (add, packet id, remove) on the MVStore store the client ships and on
 * SQLite in WAL mode through {@code sqlite-jdbc}, in the three durability modes: commit per message written to the
 * operating system, group commit every 10 ms, commit per message forced to the disk. One thread, no broker: the
 * store alone. Run: {@code java -cp benchmarks/target/classes:$(cat benchmarks/target/classpath/...) ...
 * StoreComparison [messages] [runs]}.
 *
 * <p>SQLite: one table {@code publishes(key INTEGER PRIMARY KEY, message BLOB, packet_id INTEGER)}, autocommit off;
 * "written" is {@code synchronous=NORMAL} (in WAL mode a commit is written to the WAL, fsync only at checkpoints: a
 * process crash loses nothing, a power loss may lose the last commits), "forced" is {@code synchronous=FULL} (the WAL
 * is synced at each commit). As in the MVStore store, the packet id and the removal ride on the next commit.
 */
public final class StoreComparison {

    private static final long GROUP_NANOS = Duration.ofMillis(10).toNanos();

    private StoreComparison() {
    }

    /** One store under test. */
    private interface Store extends AutoCloseable {
        long add(MqttMessage m) throws Exception;

        void sent(long key, int id) throws Exception;

        void remove(long key) throws Exception;

        /** Called after each message: commits if a group is due. */
        default void tick() throws Exception {
        }

        long bytesOnDisk() throws IOException;

        @Override
        void close() throws Exception;
    }

    /**
     * @param args messages per run (default 20000; forced runs use a tenth), runs (default 3)
     * @throws Exception if a store fails
     */
    public static void main(String[] args) throws Exception {
        int messages = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        MqttMessage m = MqttMessage.of("bench/store", new byte[100], MqttQos.AT_LEAST_ONCE);
        System.out.printf(Locale.ROOT, "%-10s %-22s %12s %12s %10s%n", "store", "mode", "us/message", "messages/s", "disk KB");
        for (String mode : new String[] {"commit-written", "group-10ms-written", "commit-forced"}) {
            int n = mode.equals("commit-forced") ? Math.max(200, messages / 10) : messages;
            for (String kind : new String[] {"mvstore", "sqlite-wal"}) {
                for (int run = 0; run < runs + 1; run++) { // the first run warms up and is not printed
                    Path dir = Files.createTempDirectory("store-compare");
                    try (Store s = open(kind, mode, dir)) {
                        long start = System.nanoTime();
                        for (int i = 0; i < n; i++) {
                            long key = s.add(m);
                            s.sent(key, 1 + i % 65_535);
                            s.remove(key);
                            s.tick();
                        }
                        long nanos = System.nanoTime() - start;
                        if (run > 0) {
                            System.out.printf(Locale.ROOT, "%-10s %-22s %12.1f %12.0f %10d%n", kind, mode,
                                    nanos / 1e3 / n, n / (nanos / 1e9), s.bytesOnDisk() / 1024);
                        }
                    } finally {
                        delete(dir);
                    }
                }
            }
        }
    }

    private static Store open(String kind, String mode, Path dir) throws Exception {
        boolean group = mode.startsWith("group");
        boolean forced = mode.endsWith("forced");
        return kind.equals("mvstore") ? mvstore(dir, group, forced) : sqlite(dir, group, forced);
    }

    private static Store mvstore(Path dir, boolean group, boolean forced) {
        Path file = dir.resolve("session.mv");
        MqttFileSessionStore.Builder b = MqttFileSessionStore.builder(file).forceToDisk(forced);
        if (group) {
            b.groupCommit(Duration.ofMillis(10));
        }
        MqttSessionStore s = b.build();
        s.open(MqttSessionStore.SessionSettings.of("bench"));
        return new Store() {
            @Override
            public long add(MqttMessage m) {
                return s.add(m);
            }

            @Override
            public void sent(long key, int id) {
                s.sent(key, id, MqttQos.AT_LEAST_ONCE);
            }

            @Override
            public void remove(long key) {
                s.remove(key);
            }

            @Override
            public long bytesOnDisk() throws IOException {
                return Files.size(file);
            }

            @Override
            public void close() {
                s.close();
            }
        };
    }

    private static Store sqlite(Path dir, boolean group, boolean forced) throws SQLException {
        Path file = dir.resolve("session.db");
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        try (Statement st = c.createStatement()) {
            st.execute("PRAGMA journal_mode=WAL");
            st.execute("PRAGMA synchronous=" + (forced ? "FULL" : "NORMAL"));
            st.execute("CREATE TABLE IF NOT EXISTS publishes (key INTEGER PRIMARY KEY, message BLOB NOT NULL, "
                    + "packet_id INTEGER NOT NULL DEFAULT 0)");
        }
        c.setAutoCommit(false);
        PreparedStatement insert = c.prepareStatement("INSERT INTO publishes (key, message) VALUES (?, ?)");
        PreparedStatement update = c.prepareStatement("UPDATE publishes SET packet_id = ? WHERE key = ?");
        PreparedStatement delete = c.prepareStatement("DELETE FROM publishes WHERE key = ?");
        return new Store() {
            private long next = 1;
            private long lastCommit = System.nanoTime();

            @Override
            public long add(MqttMessage m) throws SQLException {
                long key = next++;
                byte[] topic = m.topic().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                byte[] payload = m.payload();
                byte[] data = new byte[topic.length + payload.length];
                System.arraycopy(topic, 0, data, 0, topic.length);
                System.arraycopy(payload, 0, data, topic.length, payload.length);
                insert.setLong(1, key);
                insert.setBytes(2, data);
                insert.executeUpdate();
                if (!group) {
                    c.commit();
                }
                return key;
            }

            @Override
            public void sent(long key, int id) throws SQLException {
                update.setInt(1, id);
                update.setLong(2, key);
                update.executeUpdate();
            }

            @Override
            public void remove(long key) throws SQLException {
                delete.setLong(1, key);
                delete.executeUpdate();
            }

            @Override
            public void tick() throws SQLException {
                long now = System.nanoTime();
                if (group && now - lastCommit >= GROUP_NANOS) {
                    c.commit();
                    lastCommit = now;
                }
            }

            @Override
            public long bytesOnDisk() throws IOException {
                long size = 0;
                for (String suffix : new String[] {"", "-wal", "-shm"}) {
                    Path p = dir.resolve("session.db" + suffix);
                    if (Files.exists(p)) {
                        size += Files.size(p);
                    }
                }
                return size;
            }

            @Override
            public void close() throws SQLException {
                c.commit();
                c.close();
            }
        };
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
