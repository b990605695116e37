package dev.tether.mqtt;

import dev.tether.core.ReconnectPolicy;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Semaphore;

/**
 * A publisher run in its own JVM by {@link SessionStoreCrashIT}: publishes numbered messages through an
 * {@link MqttClient} with a durable session store and prints {@code A n} once message {@code n} was accepted
 * (stored), so the parent knows what it may not lose when it kills this process.
 *
 * <p>Arguments: broker URI, client id, store file, QoS, first number, count. With count 0 it only finishes what
 * the store holds (a graceful close drains it) and prints {@code DONE}.
 */
public final class SessionStoreChild {

    private SessionStoreChild() {
    }

    /** @param args see the class comment */
    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        String uri = args[0];
        String clientId = args[1];
        Path file = Path.of(args[2]);
        MqttQos qos = MqttQos.of(Integer.parseInt(args[3]));
        long first = Long.parseLong(args[4]);
        long count = Long.parseLong(args[5]);
        MqttClient client = MqttClient.builder().endpoint(uri).clientId(clientId).cleanStart(false)
                .sessionExpiry(Duration.ofHours(1)).drainTimeout(Duration.ofSeconds(60))
                .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(20)).maxDelay(Duration.ofMillis(200)).build())
                .sessionStore(MqttSessionStore.file(file))
                .build();
        client.lifecycle().subscribe(e -> out.println("E " + e));
        client.start();
        client.awaitConnected(Duration.ofSeconds(30)).block();
        out.println("CONNECTED " + java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime());
        Semaphore window = new Semaphore(300);
        for (long n = first; n < first + count; n++) {
            window.acquire();
            client.publish(MqttMessage.of("store/crash/" + qos.value(), Long.toString(n), qos))
                    .subscribe(r -> window.release(), e -> {
                        out.println("F " + e);
                        window.release();
                    });
            out.println("A " + n);
        }
        client.close().block(Duration.ofSeconds(90));
        out.println("DONE");
        System.exit(0);
    }
}
