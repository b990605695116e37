package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.tether.core.Initiator;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.mqtt.test.FuzzBroker;
import dev.tether.mqtt.test.MoquetteBroker;
import dev.tether.mqtt.test.Recorder;
import io.netty.util.ResourceLeakDetector;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Hooks;

/**
 * Runs one fuzz input at a time against the client: a {@link FuzzBroker} answers CONNECT with a valid
 * CONNACK and then the input; the client must end up either still connected and usable (the input was
 * a sequence of valid packets) or disconnected with a clear {@link MqttProtocolException} (or by a
 * DISCONNECT the input carried) — within a bound, with no error dropped or left at the end of a Netty
 * pipeline, nothing logged at ERROR (leaks included), and no acknowledgement for a message it did not
 * deliver. Meanwhile a well-behaved client of a real embedded broker (Moquette) keeps working.
 */
final class FuzzHarness implements AutoCloseable {

    /** How long a try waits for the client to give up on the input before checking it is still usable. */
    static final Duration SETTLE = Duration.ofMillis(400);
    /** The client's maximum packet size during fuzzing: nothing larger is ever buffered. */
    static final int MAX_PACKET = 4096;

    private final FuzzBroker fuzz = FuzzBroker.start();
    private final dev.tether.mqtt.test.@org.jspecify.annotations.Nullable FakeWebSocketBroker ws;
    private final MoquetteBroker moquette = MoquetteBroker.start();
    private final MqttClient probe;
    private final Recorder<MqttMessage> probeMessages;
    private final Queue<Throwable> dropped = new ConcurrentLinkedQueue<>();
    private final Queue<ILoggingEvent> logged = new ConcurrentLinkedQueue<>();
    private final AppenderBase<ILoggingEvent> logs = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            logged.add(event);
        }
    };
    private final AtomicInteger tries = new AtomicInteger();
    private final ResourceLeakDetector.Level leakLevel = ResourceLeakDetector.getLevel();

    private FuzzHarness(boolean webSocket) {
        ws = webSocket ? dev.tether.mqtt.test.FakeWebSocketBroker.start() : null;
        Hooks.onErrorDropped(dropped::add);
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        logs.start();
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(logs);
        probe = MqttClient.builder().endpoint(moquette.tcpUri()).clientId("probe").build();
        probeMessages = Recorder.of(probe.subscribe("probe/#", MqttQos.AT_LEAST_ONCE));
        probe.start().awaitConnected(Duration.ofSeconds(10)).block();
        probe();
    }

    static FuzzHarness start() {
        return new FuzzHarness(false);
    }

    /** @return a harness whose fuzz broker speaks MQTT over WebSocket: each input is one binary frame */
    static FuzzHarness startWebSocket() {
        return new FuzzHarness(true);
    }

    /** A round trip through the real broker: the well-behaved client is unaffected. */
    void probe() {
        String token = UUID.randomUUID().toString();
        probe.publish(MqttMessage.of("probe/" + tries.get(), token, MqttQos.AT_LEAST_ONCE)).block(Duration.ofSeconds(10));
        probeMessages.await(m -> m.payloadAsString().equals(token), Duration.ofSeconds(10));
    }

    /**
     * @param input the bytes the broker sends after CONNACK
     * @return how the try ended: {@code usable}, {@code protocol error} or {@code broker disconnect}
     */
    String check(byte[] input) {
        int n = tries.incrementAndGet();
        String hex = HexFormat.of().formatHex(input);
        String id = "fuzz-" + n;
        fuzz.script(id, input);
        int typesBefore = ws == null ? 0 : ws.packetTypes().size();
        if (ws != null) {
            ws.afterNextConnack(List.of(input));
        }
        MqttClient client = MqttClient.builder().endpoint(ws == null ? fuzz.tcpUri() : ws.wsUri()).clientId(id)
                .maxPacketSize(MAX_PACKET)
                .incompletePacketTimeout(Duration.ofMillis(150)).keepAlive(Duration.ofSeconds(30))
                .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofSeconds(30)).maxDelay(Duration.ofSeconds(30)).build())
                .build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
        Recorder<MqttMessage> messages = Recorder.of(client.subscribe("#", MqttQos.EXACTLY_ONCE));
        String outcome;
        try {
            client.start();
            events.await(LifecycleEvent.Connected.class, Duration.ofSeconds(10));
            LifecycleEvent.Disconnected d = awaitDisconnected(events);
            if (d == null) {
                try {
                    // Every byte formed valid packets: the connection is still usable ...
                    client.publish(MqttMessage.of("still/usable", "yes", MqttQos.AT_MOST_ONCE)).block(Duration.ofSeconds(5));
                } catch (RuntimeException closing) {
                    // ... or its close was under way when the settle time ran out (a loaded machine): the
                    // disconnect must then follow, and is judged like any other
                    d = events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(10));
                }
            }
            if (d == null) {
                outcome = "usable";
            } else if (d.cause() instanceof MqttProtocolException) {
                assertThat(d.initiator()).as("initiator for input %s", hex).isEqualTo(Initiator.LOCAL_DETECTION);
                assertThat(d.cause().getMessage()).as("message for input %s", hex).startsWith("the broker sent");
                outcome = "protocol error";
            } else {
                assertThat(events.items()).as("a disconnect without protocol error must be the broker's DISCONNECT; input %s, cause %s",
                        hex, d.cause()).anyMatch(e -> e instanceof LifecycleEvent.CloseReceived);
                assertThat(d.initiator()).as("initiator for input %s", hex).isEqualTo(Initiator.REMOTE_PEER);
                outcome = "broker disconnect";
            }
        } finally {
            client.abort().block(Duration.ofSeconds(10));
        }
        if (ws == null) {
            checkAcknowledgements(id, hex, input, messages.items());
        } else {
            // Over WebSocket the broker records packet types only: every PUBACK stands for a QoS 1 delivery.
            List<Integer> types = ws.packetTypes();
            long pubAcks = types.subList(Math.min(typesBefore, types.size()), types.size()).stream().filter(t -> t == 4).count();
            if (!containsDollar(input)) {
                assertThat(pubAcks).as("PUBACKs sent for input %s", hex)
                        .isLessThanOrEqualTo(messages.items().stream().filter(m -> m.qos() == MqttQos.AT_LEAST_ONCE).count());
            }
        }
        assertThat(dropped).as("errors dropped by Reactor for input %s", hex).isEmpty();
        List<ILoggingEvent> bad = logged.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.ERROR)
                || e.getFormattedMessage().contains("tail of the pipeline")).toList();
        assertThat(bad).as("errors logged for input %s", hex).extracting(ILoggingEvent::getFormattedMessage).isEmpty();
        if (n % 25 == 0) {
            probe();
        }
        return outcome;
    }

    private static LifecycleEvent.Disconnected awaitDisconnected(Recorder<LifecycleEvent> events) {
        try {
            return events.await(LifecycleEvent.Disconnected.class, SETTLE);
        } catch (AssertionError notYet) {
            return null;
        }
    }

    /** Nothing is acknowledged that was not received: every PUBACK, and every PUBREC id, stands for a delivery. */
    private void checkAcknowledgements(String id, String hex, byte[] input, List<MqttMessage> delivered) {
        if (containsDollar(input)) {
            // Topics starting with '$' do not match '#': deliveries cannot be counted for this input.
            return;
        }
        List<String> sent = fuzz.sentBy(id);
        long pubAcks = sent.stream().filter(s -> s.startsWith("PUBACK")).count();
        long pubRecIds = sent.stream().filter(s -> s.startsWith("PUBREC")).map(s -> s.split(" ")[1]).distinct().count();
        long qos1 = delivered.stream().filter(m -> m.qos() == MqttQos.AT_LEAST_ONCE).count();
        long qos2 = delivered.stream().filter(m -> m.qos() == MqttQos.EXACTLY_ONCE).count();
        assertThat(pubAcks).as("PUBACKs sent for input %s (sent %s)", hex, sent).isLessThanOrEqualTo(qos1);
        assertThat(pubRecIds).as("PUBREC ids sent for input %s (sent %s)", hex, sent).isLessThanOrEqualTo(qos2);
        assertThat(sent).as("PUBCOMP 0x00 only for an id that was PUBRECed; input %s", hex)
                .filteredOn(s -> s.startsWith("PUBCOMP") && s.endsWith("0x0"))
                .allSatisfy(s -> assertThat(sent).contains("PUBREC " + s.split(" ")[1] + " 0x0"));
    }

    private static boolean containsDollar(byte[] input) {
        for (byte b : input) {
            if (b == '$') {
                return true;
            }
        }
        return false;
    }

    /** @return how many inputs were checked */
    int tries() {
        return tries.get();
    }

    @Override
    public void close() {
        try {
            probe();
            probe.close().block(Duration.ofSeconds(10));
        } finally {
            ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
            Hooks.resetOnErrorDropped();
            ResourceLeakDetector.setLevel(leakLevel);
            fuzz.close();
            if (ws != null) {
                ws.close();
            }
            moquette.close();
        }
    }
}
