package dev.tether.samples.cli;

import dev.tether.samples.LifecycleJson;

import dev.tether.core.Endpoint;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttQos;
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
 * message received, as it happens.
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

    @Option(names = "--subscribe", paramLabel = "TOPIC", description = "MQTT: subscribe to this topic filter and count messages.")
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
        Runnable start;
        Mono<Void> close;
        Mono<Void> closed;
        switch (protocol) {
            case "mqtt" -> {
                if (!endpoint.scheme().matches("tcp|mqtt|ssl|tls|mqtts|ws|wss")) {
                    throw new CommandLine.ParameterException(cl, "unknown scheme '" + endpoint.scheme() + "' for mqtt: use tcp://, ssl://, ws:// or wss://");
                }
                MqttClient client = MqttClient.builder().endpoint(endpoint).name("watch")
                        .version(mqttVersion == 3 ? dev.tether.mqtt.MqttVersion.MQTT_3_1_1 : dev.tether.mqtt.MqttVersion.MQTT_5)
                        .clientId("tether-watch-" + ProcessHandle.current().pid())
                        .credentials(auth.provider(cl, false)).reconnect(ReconnectPolicy.defaults()).build();
                lifecycle = client.lifecycle();
                inbound = topic == null ? Flux.never() : client.subscribe(topic, MqttQos.AT_LEAST_ONCE).map(m -> {
                    Map<String, Object> o = Json.object();
                    o.put("topic", m.topic());
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
        }, e -> { });
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
        msgs.dispose();
        Throwable failure = closed.then(Mono.<Throwable>empty()).onErrorResume(Mono::just).block(Duration.ofSeconds(1));
        return failure == null ? 0 : 1;
    }

    private static boolean awaitForever(CountDownLatch done) throws InterruptedException {
        done.await();
        return true;
    }
}
