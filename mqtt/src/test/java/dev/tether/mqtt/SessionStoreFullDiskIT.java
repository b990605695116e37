package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.LifecycleEvent;
import dev.tether.core.OverflowPolicy;
import dev.tether.core.ReconnectPolicy;
import dev.tether.mqtt.test.MoquetteBroker;
import dev.tether.mqtt.test.QuotaFileSystem;
import dev.tether.core.testing.Recorder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client whose session store fills its file system (a quota file system, no root needed): the publish that could
 * not be stored fails, the client goes on, and publishes are stored and sent again once there is room, without a
 * restart. Against Moquette.
 */
class SessionStoreFullDiskIT {

    @TempDir
    Path dir;

    @AfterEach
    void noQuota() {
        QuotaFileSystem.quota(Long.MAX_VALUE);
    }

    @Test
    void aFullDiskFailsOnlyThePublishesThatCouldNotBeStoredAndTheClientGoesOnOnceThereIsRoom() throws Exception {
        MoquetteBroker broker = MoquetteBroker.start();
        Path file = dir.resolve("full.mv");
        QuotaFileSystem.register();
        QuotaFileSystem.quota(384 * 1024);
        MqttFileSessionStore store = MqttFileSessionStore.builder(file).mvStoreFileName(QuotaFileSystem.PREFIX + file)
                .freeSpaceReserve(64 * 1024).usableSpace(QuotaFileSystem::free).build();
        MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).clientId("store-full").cleanStart(false)
                .sessionExpiry(Duration.ofMinutes(5)).offlineBuffer(100_000, OverflowPolicy.FAIL_NEWEST)
                .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(200)).build())
                .sessionStore(store).build().start();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
        AtomicInteger acknowledged = new AtomicInteger();
        CountDownLatch allAcknowledged = new CountDownLatch(1);
        AtomicInteger accepted = new AtomicInteger();
        try {
            client.awaitConnected(Duration.ofSeconds(10)).block();
            broker.stop();
            events.await(e -> e instanceof LifecycleEvent.Disconnected, Duration.ofSeconds(10));

            AtomicReference<Throwable> refused = new AtomicReference<>();
            byte[] kb = new byte[1000];
            Runnable onAck = () -> {
                if (acknowledged.incrementAndGet() == accepted.get() && refused.get() != null) {
                    allAcknowledged.countDown();
                }
            };
            for (int i = 0; i < 10_000 && refused.get() == null; i++) {
                AtomicReference<Throwable> failed = new AtomicReference<>();
                client.publish(MqttMessage.of("full/" + i, kb, MqttQos.AT_LEAST_ONCE)).subscribe(r -> onAck.run(), failed::set);
                if (failed.get() == null) {
                    accepted.incrementAndGet();
                } else {
                    refused.set(failed.get());
                }
            }
            assertThat(refused.get()).as("the publish the store could not keep fails at once")
                    .isInstanceOf(MqttSessionStoreException.class).hasMessageContaining(file.toString())
                    .hasMessageContaining("disk full");
            assertThat(accepted.get()).isPositive();

            QuotaFileSystem.quota(16 * 1024 * 1024); // space was freed
            for (int i = 0; i < 3; i++) {
                AtomicReference<Throwable> failed = new AtomicReference<>();
                accepted.incrementAndGet();
                client.publish(MqttMessage.of("full/after/" + i, kb, MqttQos.AT_LEAST_ONCE)).subscribe(r -> onAck.run(),
                        failed::set);
                assertThat(failed.get()).as("stored again without a restart").isNull();
            }
            broker.restart();
            assertThat(allAcknowledged.await(60, TimeUnit.SECONDS))
                    .as("every accepted publish acknowledged: %d of %d", acknowledged.get(), accepted.get()).isTrue();
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Closed);
            client.close().block(Duration.ofSeconds(10));
        } finally {
            client.abort().block(Duration.ofSeconds(10));
            broker.close();
        }
        try (MqttSessionStore s = MqttSessionStore.file(file)) {
            MqttSessionStore.Contents left = s.open(MqttSessionStore.SessionSettings.of("store-full"));
            assertThat(left.inFlight()).isEmpty();
            assertThat(left.waiting()).isZero();
        }
    }
}
