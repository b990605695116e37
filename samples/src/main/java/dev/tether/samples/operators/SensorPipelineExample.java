package dev.tether.samples.operators;

import dev.tether.core.ConnectionOperators;
import dev.tether.core.Health;
import dev.tether.core.OverflowPolicy;
import dev.tether.core.ReconnectPolicy;
import dev.tether.jwt.JwtCredentialsProvider;
import dev.tether.jwt.JwtSigner;
import dev.tether.jwt.JwtVerifier;
import dev.tether.jwt.TokenMapping;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttSession;
import dev.tether.samples.broker.JwtBroker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import reactor.core.publisher.Flux;

/**
 * A sensor pipeline on Tether's operators, runnable on its own (embedded broker):
 * readings are produced every 50 ms whatever the network does; while the sensor is cut off they wait
 * in a bounded buffer that drops the oldest; each is published once connected; the health of the
 * connection is printed as it changes; a per-session task says hello on every (re)connect.
 *
 * <p>Run: {@code java -cp ... dev.tether.samples.operators.SensorPipelineExample}
 */
public final class SensorPipelineExample {

    private SensorPipelineExample() {
    }

    /**
     * Runs the pipeline for a few seconds with a one-second outage in the middle.
     *
     * @param args ignored
     * @return what was delivered and what was dropped, in order
     */
    public static Outcome run(String[] args) {
        byte[] secret = "an-example-secret-of-at-least-32-bytes!".getBytes(StandardCharsets.UTF_8);
        List<String> delivered = new CopyOnWriteArrayList<>();
        List<Long> dropped = new CopyOnWriteArrayList<>();
        List<Health.Status> health = new CopyOnWriteArrayList<>();
        try (JwtBroker broker = JwtBroker.start(JwtVerifier.builder().hmacSecret(secret).build(), why -> { })) {
            JwtCredentialsProvider tokens = JwtCredentialsProvider.builder()
                    .selfSigned(JwtSigner.builder().hs256(secret).subject("sensor-7").build())
                    .mapping(TokenMapping.password("sensor-7")).build();
            // Short outages are expected here: cap the backoff at 1 s (the default cap is 30 s).
            ReconnectPolicy policy = ReconnectPolicy.builder().maxDelay(Duration.ofSeconds(1)).build();
            MqttClient sensor = MqttClient.builder().endpoint(broker.tcpUri()).clientId("sensor-7").credentials(tokens).reconnect(policy).build();
            MqttClient sink = MqttClient.builder().endpoint(broker.tcpUri()).clientId("sink").credentials(tokens).reconnect(policy).build();
            sink.subscribe("sensors/#", MqttQos.AT_LEAST_ONCE).subscribe(m -> delivered.add(m.payloadAsString()));
            sink.start().awaitConnected(Duration.ofSeconds(10)).block();

            // Health as it changes: STARTING, UP, RECONNECTING, UP, OUT_OF_SERVICE.
            ConnectionOperators.health(sensor.connection()).subscribe(h -> {
                health.add(h.status());
                System.out.println("health: " + h.status() + " (" + h.detail() + ")");
            });
            // Once per session: announce ourselves, cancelled when that session ends.
            sensor.connection().perSession((MqttSession s) -> sensor.publish(
                    MqttMessage.of("sensors/sensor-7/hello", "session " + s.clientId(), MqttQos.AT_LEAST_ONCE))).subscribe();

            // The pipeline: produce, buffer while disconnected (bounded, drop oldest), publish in order.
            Flux.interval(Duration.ofMillis(50)).take(60)
                    .transform(ConnectionOperators.bufferWhileDisconnected(sensor.connection(), 10, OverflowPolicy.DROP_OLDEST, dropped::add))
                    .concatMap(n -> sensor.publish(MqttMessage.of("sensors/sensor-7/reading", "reading-" + n, MqttQos.AT_LEAST_ONCE)))
                    .subscribe();
            sensor.start();

            sensor.awaitConnected(Duration.ofSeconds(10)).block();
            Flux.interval(Duration.ofMillis(20)).filter(i -> delivered.size() >= 10).next().block(Duration.ofSeconds(10));
            broker.kick("sensor-7", Duration.ofSeconds(1));   // the sensor's network goes away for a second
            Flux.interval(Duration.ofMillis(20)).filter(i -> !dropped.isEmpty()).next().block(Duration.ofSeconds(10));
            Flux.interval(Duration.ofMillis(20)).filter(i -> delivered.contains("reading-59")).next().block(Duration.ofSeconds(20));
            sensor.close().block(Duration.ofSeconds(10));
            sink.close().block(Duration.ofSeconds(10));
        }
        System.out.println("delivered " + delivered.size() + " messages, dropped " + dropped.size() + " readings while offline");
        return new Outcome(List.copyOf(delivered), List.copyOf(dropped), List.copyOf(health));
    }

    /**
     * @param args ignored
     */
    public static void main(String[] args) {
        run(args);
    }

    /**
     * What the example observed.
     *
     * @param delivered payloads the independent sink received
     * @param dropped   readings the buffer dropped while offline
     * @param health    health statuses, in order
     */
    public record Outcome(List<String> delivered, List<Long> dropped, List<Health.Status> health) {
    }
}
