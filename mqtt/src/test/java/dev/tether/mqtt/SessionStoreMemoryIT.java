package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.ReconnectPolicy;
import dev.tether.mqtt.test.MoquetteBroker;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.BitSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store far larger than what the client keeps in memory: {@code start()} reads only the publishes that were in
 * flight, the others are read page by page as they are sent, so the heap does not grow with the store.
 */
class SessionStoreMemoryIT {

    private static final int MESSAGES = 200_000;
    private static final int PAYLOAD = 200;

    private static MoquetteBroker broker;

    @TempDir
    Path dir;

    @BeforeAll
    static void startBroker() {
        broker = MoquetteBroker.start();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    private static long usedHeapAfterGc(MemoryMXBean memory) {
        memory.gc();
        memory.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    private static byte[] payload(int n) {
        byte[] p = new byte[PAYLOAD];
        Arrays.fill(p, (byte) ' ');
        byte[] number = Integer.toString(n).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(number, 0, p, 0, number.length);
        return p;
    }

    @Test
    void aStoreOf200000UnfinishedPublishesOpensWithoutLoadingThemAndAllAreSent() throws Exception {
        Path file = dir.resolve("large.mv");
        long writeStart = System.nanoTime();
        MqttFileSessionStore writer = MqttFileSessionStore.builder(file).groupCommit(Duration.ofMillis(50)).build();
        writer.open(MqttSessionStore.SessionSettings.of("store-large"));
        for (int i = 0; i < MESSAGES; i++) {
            writer.add(MqttMessage.of("large/" + (i % 100), payload(i), MqttQos.AT_LEAST_ONCE));
        }
        writer.close();
        long fileSize = Files.size(file);
        long writeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - writeStart);

        // Counted where they arrive: at the broker (a subscriber would make the broker the bottleneck).
        BitSet seen = new BitSet(MESSAGES);
        AtomicLong duplicates = new AtomicLong();
        java.util.concurrent.atomic.AtomicInteger distinct = new java.util.concurrent.atomic.AtomicInteger();
        CountDownLatch all = new CountDownLatch(1);
        broker.onPublish((clientId, payload) -> {
            if (!clientId.equals("store-large")) {
                return;
            }
            int n = Integer.parseInt(new String(payload, StandardCharsets.US_ASCII).trim());
            synchronized (seen) {
                if (seen.get(n)) {
                    duplicates.incrementAndGet();
                } else {
                    seen.set(n);
                    if (distinct.incrementAndGet() == MESSAGES) {
                        all.countDown();
                    }
                }
            }
        });

        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long before = usedHeapAfterGc(memory);
        long openStart = System.nanoTime();
        MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).clientId("store-large").cleanStart(false)
                .sessionExpiry(Duration.ofMinutes(5))
                .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(200)).build())
                .sessionStore(MqttSessionStore.file(file)).build().start();
        long openMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - openStart);
        long sendStart = System.nanoTime();
        try {
            long growthAtStart = usedHeapAfterGc(memory) - before;
            long maxGrowth = growthAtStart;
            // Sample the heap while the store drains; bounded in count and time.
            for (int i = 0; i < 600 && !all.await(500, TimeUnit.MILLISECONDS); i++) {
                if (i % 4 == 0) {
                    maxGrowth = Math.max(maxGrowth, usedHeapAfterGc(memory) - before);
                }
            }
            assertThat(all.getCount()).as("all %d stored publishes arrived; seen %d", MESSAGES, distinct.get()).isZero();
            long sendMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sendStart);
            System.out.printf("session store of %d publishes (%d B payload): file %.1f MB written in %d ms; start() %d ms; "
                            + "heap growth after GC at start %.1f MB, at most %.1f MB while sending; all sent in %d ms "
                            + "(%d received twice)%n", MESSAGES, PAYLOAD, fileSize / 1e6, writeMillis, openMillis,
                    growthAtStart / 1e6, maxGrowth / 1e6, sendMillis, duplicates.get());
            assertThat(growthAtStart).as("heap growth at start, store file %d bytes", fileSize).isLessThan(fileSize / 4);
            assertThat(maxGrowth).as("heap growth while sending, store file %d bytes", fileSize).isLessThan(fileSize / 2);
            client.close().block(Duration.ofSeconds(30));
        } finally {
            client.abort().block(Duration.ofSeconds(10));
        }
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            MqttSessionStore.Contents left = s.open(MqttSessionStore.SessionSettings.of("store-large"));
            assertThat(left.inFlight()).isEmpty();
            assertThat(left.waiting()).as("every publish acknowledged and removed").isZero();
        }
    }
}
