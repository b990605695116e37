package dev.tether.samples.cli;

import dev.tether.samples.LifecycleJson;

import dev.tether.core.Endpoint;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttRefusedException;
import dev.tether.mqtt.MqttSession;
import dev.tether.mqtt.MqttSubscription;
import dev.tether.mqtt.MqttVersion;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketSession;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@code tether watch}: keeps a resilient connection and prints every lifecycle event, and every
 * message received, as it happens. For MQTT it also prints, on every connect, what the session
 * negotiated (Subscription Identifiers, shared subscriptions) and when inbound messages are
 * acknowledged; a refused subscription is printed with its SUBACK code.
 */
@Command(name = "watch", mixinStandardHelpOptions = true,
        description = "Keep a resilient MQTT or WebSocket connection and print every lifecycle event as it happens.")
final class WatchCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "mqtt|ws", description = "The protocol.")
    String protocol;

    @Parameters(index = "1", paramLabel = "URI", description = "Broker or endpoint address (tcp://, ssl://, ws://, wss://).")
    String uri;

    @Mixin
    AuthOptions auth;

    @Option(names = "--subscribe", paramLabel = "TOPIC", description = {
            "MQTT: subscribe to this topic filter (QoS 1) and count messages; a shared subscription",
            "$share/<group>/<filter> is accepted and checked against what the broker says it supports."})
    String topic;

    @Option(names = "--mqtt-version", paramLabel = "3|5", defaultValue = "5", description = "MQTT version (default: ${DEFAULT-VALUE}).")
    int mqttVersion;

    @Option(names = "--duration", paramLabel = "D", converter = Durations.class,
            description = "Stop after this long (default: until interrupted).")
    Duration duration;

    @Option(names = "--json", description = "One JSON object per line.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        CommandLine cl = spec.commandLine();
        Endpoint endpoint;
        try {
            endpoint = Endpoint.of(uri);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
        PrintWriter out = cl.getOut();
        AtomicLong messages = new AtomicLong();
        Flux<LifecycleEvent> lifecycle;
        Flux<Map<String, Object>> inbound;
        Flux<Map<String, Object>> sessions = Flux.never();
        Runnable start;
        Mono<Void> close;
        Mono<Void> closed;
        switch (protocol) {
            case "mqtt" -> {
                if (!endpoint.scheme().matches("tcp|mqtt|ssl|tls|mqtts|ws|wss")) {
                    throw new CommandLine.ParameterException(cl, "unknown scheme '" + endpoint.scheme() + "' for mqtt: use tcp://, ssl://, ws:// or wss://");
                }
                MqttSubscription subscription = null;
                if (topic != null) {
                    try {
                        subscription = MqttSubscription.of(topic, MqttQos.AT_LEAST_ONCE);
                    } catch (IllegalArgumentException e) {
                        throw new CommandLine.ParameterException(cl, "--subscribe: " + e.getMessage());
                    }
                }
                MqttSubscription wanted = subscription;
                MqttClient client = MqttClient.builder().endpoint(endpoint).name("watch")
                        .version(mqttVersion == 3 ? dev.tether.mqtt.MqttVersion.MQTT_3_1_1 : dev.tether.mqtt.MqttVersion.MQTT_5)
                        .clientId("tether-watch-" + ProcessHandle.current().pid())
                        .credentials(auth.provider(cl, false)).reconnect(ReconnectPolicy.defaults()).build();
                lifecycle = client.lifecycle();
                sessions = client.lifecycle().filter(e -> e instanceof LifecycleEvent.Connected c
                        && c.details() instanceof MqttSession).map(e -> session((MqttSession) ((LifecycleEvent.Connected) e).details(), wanted));
                inbound = wanted == null ? Flux.never() : client.subscribe(wanted).map(m -> {
                    Map<String, Object> o = Json.object();
                    o.put("topic", m.topic());
                    o.put("qos", m.qos().value());
                    o.put("bytes", m.payloadSize());
                    return o;
                });
                start = client::start;
                close = client.close();
                closed = client.connection().onClosed();
            }
            case "ws" -> {
                if (!endpoint.scheme().matches("ws|wss")) {
                    throw new CommandLine.ParameterException(cl, "unknown scheme '" + endpoint.scheme() + "' for ws: use ws:// or wss://");
                }
                ResilientConnection<WebSocketSession> conn = ResilientConnection.builder(WebSocketClient.builder().build())
                        .name("watch").endpoint(endpoint).credentials(auth.provider(cl, true)).build();
                lifecycle = conn.lifecycle();
                inbound = conn.perSession(WebSocketSession::receive).map(m -> {
                    Map<String, Object> o = Json.object();
                    o.put("type", m.isText() ? "text" : "binary");
                    o.put("bytes", m.size());
                    return o;
                });
                start = conn::start;
                close = conn.close();
                closed = conn.onClosed();
            }
            default -> throw new CommandLine.ParameterException(cl, "unknown protocol '" + protocol + "': use mqtt or ws");
        }
        Object lock = new Object();
        Disposable events = lifecycle.subscribe(e -> {
            synchronized (lock) {
                out.println(json ? Json.write(LifecycleJson.json(e)) : LifecycleJson.human(e));
            }
        }, e -> { });
        Disposable negotiated = sessions.subscribe(o -> {
            synchronized (lock) {
                out.println(json ? Json.write(o) : humanSession(o));
            }
        }, e -> { });
        Disposable msgs = inbound.subscribe(m -> {
            long n = messages.incrementAndGet();
            m.put("count", n);
            Map<String, Object> o = Json.object();
            o.put("time", Instant.now().toString());
            o.put("event", "message");
            o.putAll(m);
            synchronized (lock) {
                out.println(json ? Json.write(o) : "message #" + n + " " + m);
            }
        }, e -> {
            // The subscription ended (the connection keeps running): say why, with the SUBACK code if refused.
            Map<String, Object> o = Json.object();
            o.put("time", Instant.now().toString());
            o.put("event", "subscription_failed");
            o.put("filter", topic);
            o.put("suback_code", e instanceof MqttRefusedException r ? String.format("0x%02X", r.reasonCode()) : null);
            o.put("reason", LifecycleJson.message(e));
            synchronized (lock) {
                out.println(json ? Json.write(o) : "subscription to " + topic + " failed"
                        + (o.get("suback_code") == null ? "" : " (SUBACK " + o.get("suback_code") + ")") + ": " + o.get("reason"));
            }
        });
        CountDownLatch done = new CountDownLatch(1);
        closed.subscribe(null, e -> done.countDown(), done::countDown);
        Thread hook = new Thread(() -> close.block(Duration.ofSeconds(10)));
        Runtime.getRuntime().addShutdownHook(hook);
        start.run();
        boolean ended = duration == null ? awaitForever(done) : done.await(duration.toMillis(), TimeUnit.MILLISECONDS);
        if (!ended) {
            close.block(Duration.ofSeconds(15));
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running: it closes the connection
        }
        events.dispose();
        negotiated.dispose();
        msgs.dispose();
        Throwable failure = closed.then(Mono.<Throwable>empty()).onErrorResume(Mono::just).block(Duration.ofSeconds(1));
        return failure == null ? 0 : 1;
    }

    /** What the broker granted on a connect, and when this watcher's messages are acknowledged. */
    static Map<String, Object> session(MqttSession s, MqttSubscription spec) {
        boolean v5 = s.version() == MqttVersion.MQTT_5;
        Map<String, Object> o = Json.object();
        o.put("time", Instant.now().toString());
        o.put("event", "session");
        o.put("mqtt_version", v5 ? "5" : "3.1.1");
        o.put("session_present", s.sessionPresent());
        o.put("receive_maximum", s.receiveMaximum());
        o.put("maximum_qos", s.maximumQos().value());
        o.put("subscription_identifiers", s.subscriptionIdentifiersAvailable());
        // MQTT 3.1.1 cannot say whether shared subscriptions exist; the client then reports true.
        o.put("shared_subscriptions", v5 ? s.sharedSubscriptionsAvailable() : null);
        o.put("routing", s.subscriptionIdentifiersAvailable()
                ? "by Subscription Identifier: overlapping filters never deliver one PUBLISH twice"
                : "by topic: every subscriber whose filter matches the topic");
        if (spec != null) {
            o.put("subscription", spec.topicFilter());
            o.put("shared_group", spec.shareGroup().orElse(null));
            o.put("acknowledgement", "QoS 1/2: after emission to this watcher under its demand (it requests without "
                    + "bound, so once the message line is printed), in arrival order");
            if (spec.isShared() && v5 && !s.sharedSubscriptionsAvailable()) {
                o.put("warning", "the broker says it has no shared subscriptions (CONNACK): expect the SUBSCRIBE to "
                        + "be refused (0x9E)");
            } else if (spec.isShared() && !v5) {
                o.put("warning", "MQTT 3.1.1 cannot say whether the broker has shared subscriptions; one without "
                        + "them refuses the SUBSCRIBE, or takes $share/... as an ordinary filter that nothing matches");
            }
        }
        return o;
    }

    private static String humanSession(Map<String, Object> o) {
        StringBuilder sb = new StringBuilder("session  MQTT ").append(o.get("mqtt_version"))
                .append(", receiveMaximum=").append(o.get("receive_maximum"))
                .append(", maximumQos=").append(o.get("maximum_qos"))
                .append(", subscriptionIdentifiers=").append(o.get("subscription_identifiers"))
                .append(", sharedSubscriptions=").append(o.get("shared_subscriptions") == null
                        ? "unknown (MQTT 3.1.1 cannot say)" : o.get("shared_subscriptions"))
                .append("; routing ").append(o.get("routing"));
        if (o.containsKey("subscription")) {
            sb.append(System.lineSeparator()).append("         ").append(o.get("subscription"))
                    .append(o.get("shared_group") == null ? "" : " (shared, group " + o.get("shared_group") + ")")
                    .append(": acknowledged ").append(o.get("acknowledgement"));
        }
        if (o.containsKey("warning")) {
            sb.append(System.lineSeparator()).append("warning  ").append(o.get("warning"));
        }
        return sb.toString();
    }

    private static boolean awaitForever(CountDownLatch done) throws InterruptedException {
        done.await();
        return true;
    }
}
