package dev.tether.samples.cli;

import dev.tether.websocket.DrainReport;
import dev.tether.websocket.Heartbeat;
import dev.tether.websocket.onebot.OneBotAnnouncer;
import dev.tether.websocket.ServerEvent;
import dev.tether.websocket.WebSocketMessage;
import dev.tether.websocket.WebSocketServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import reactor.core.Disposable;
import sun.misc.Signal;

/**
 * {@code tether serve ws}: the resilient WebSocket server — echo, plus a broadcast of every line
 * typed on standard input. SIGTERM (or Ctrl-C) drains every session with 1001 and exits 0; SIGHUP
 * reloads: 1012 to every session, the listener back on the same port.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Run the resilient WebSocket server: echo, and broadcast of lines typed on stdin.",
                "SIGTERM/Ctrl-C: graceful stop (1001, OneBot 'disable' first when enabled). SIGHUP: hot reload (1012)."})
final class ServeCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "ws", description = "The protocol (only ws).")
    String protocol;

    @Option(names = "--port", paramLabel = "P", defaultValue = "8080", description = "Port on 127.0.0.1, 0 for any free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--host", paramLabel = "H", defaultValue = "127.0.0.1", description = "Address to bind (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--path", paramLabel = "/PATH", defaultValue = "/ws", description = "WebSocket path (default: ${DEFAULT-VALUE}).")
    String path;

    @Option(names = "--onebot", description = "Announce OneBot v11 lifecycle (connect, enable, disable) and heartbeat meta events.")
    boolean onebot;

    @Option(names = "--self-id", paramLabel = "N", defaultValue = "10001", description = "OneBot self_id (default: ${DEFAULT-VALUE}).")
    long selfId;

    @Option(names = "--heartbeat", paramLabel = "D", converter = Durations.class,
            description = "Ping every session this often (and, with --onebot, send the heartbeat meta event).")
    Duration heartbeat;

    @Option(names = "--drain-timeout", paramLabel = "D", converter = Durations.class, defaultValue = "5s",
            description = "How long a stop or reload waits for close handshakes before aborting (default: ${DEFAULT-VALUE}).")
    Duration drainTimeout;

    @Option(names = "--json", description = "Server events as JSON lines.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (!"ws".equals(protocol)) {
            throw new CommandLine.ParameterException(cl, "unknown protocol '" + protocol + "': only 'ws' can be served");
        }
        if (port < 0 || port > 65535) {
            throw new CommandLine.ParameterException(cl, "--port must be between 0 and 65535, not " + port);
        }
        PrintWriter out = cl.getOut();
        WebSocketServer.Builder b = WebSocketServer.builder().host(host).port(port).path(path).drainTimeout(drainTimeout)
                .handler(session -> session.send(session.receive()));
        if (heartbeat != null) {
            b.session(s -> s.heartbeat(Heartbeat.of(heartbeat, heartbeat)));
        }
        if (onebot) {
            b.announcer(OneBotAnnouncer.builder(selfId).enableDisable(true).heartbeatInterval(heartbeat).build());
        }
        WebSocketServer server = b.build();
        Disposable events = server.events().subscribe(e -> print(out, e));
        server.start().block(Duration.ofSeconds(30));
        if (!json) {
            out.println("serving ws://" + host + ":" + server.port() + path + " (lines typed here are broadcast; Ctrl-C stops, kill -HUP reloads)");
            out.flush();
        }
        CountDownLatch stopped = new CountDownLatch(1);
        int[] exit = {0};
        Signal.handle(new Signal("HUP"), s -> server.reload().subscribe(r -> report(out, r), e -> err(cl, e)));
        sun.misc.SignalHandler stop = s -> server.stop().subscribe(r -> {
            report(out, r);
            stopped.countDown();
        }, e -> {
            err(cl, e);
            exit[0] = 1;
            stopped.countDown();
        });
        Signal.handle(new Signal("TERM"), stop);
        Signal.handle(new Signal("INT"), stop);
        Thread stdin = new Thread(() -> broadcastLines(server), "stdin-broadcast");
        stdin.setDaemon(true);
        stdin.start();
        stopped.await();
        events.dispose();
        return exit[0];
    }

    private static void broadcastLines(WebSocketServer server) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (!line.isBlank()) {
                    server.sessions().broadcast(WebSocketMessage.text(line)).subscribe();
                }
            }
        } catch (java.io.IOException ignored) {
            // stdin closed: nothing more to broadcast
        }
    }

    private void print(PrintWriter out, ServerEvent e) {
        Map<String, Object> o = Json.object();
        o.put("time", e.timestamp().toString());
        String name = e.getClass().getSimpleName().replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
        o.put("event", name);
        if (e instanceof ServerEvent.Started s) {
            o.put("port", s.port());
        } else if (e instanceof ServerEvent.SessionOpened s) {
            o.put("session", s.sessionId());
            o.put("remote", String.valueOf(s.remote()));
        } else if (e instanceof ServerEvent.CloseSent s) {
            o.put("session", s.sessionId());
            o.put("code", s.code());
            o.put("reason", s.reason());
        } else if (e instanceof ServerEvent.CloseReceived s) {
            o.put("session", s.sessionId());
            o.put("code", s.code());
            o.put("reason", s.reason());
        } else if (e instanceof ServerEvent.SessionClosed s) {
            o.put("session", s.sessionId());
            o.put("clean", s.summary().clean());
            o.put("code_sent", s.summary().codeSent());
            o.put("code_received", s.summary().codeReceived());
        } else if (e instanceof ServerEvent.DrainStarted s) {
            o.put("reason", s.reason().name().toLowerCase(Locale.ROOT));
            o.put("sessions", s.sessions());
        } else if (e instanceof ServerEvent.Drained s) {
            o.put("closed_cleanly", s.report().closedCleanly());
            o.put("aborted", s.report().aborted());
        } else if (e instanceof ServerEvent.Stopped s) {
            o.put("port", s.port());
        }
        synchronized (this) {
            if (json) {
                out.println(Json.write(o));
            } else {
                StringBuilder sb = new StringBuilder(String.format("%-16s", o.remove("event")));
                o.remove("time");
                o.forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
                out.println(sb);
            }
            out.flush();
        }
    }

    private void report(PrintWriter out, DrainReport r) {
        if (!json) {
            synchronized (this) {
                out.println(r.reason().name().toLowerCase(Locale.ROOT) + ": " + r.sessions() + " sessions, "
                        + r.closedCleanly() + " closed cleanly, " + r.aborted() + " aborted, in " + r.took().toMillis() + " ms");
                out.flush();
            }
        }
    }

    private static void err(CommandLine cl, Throwable e) {
        cl.getErr().println("tether: " + TetherCommand.oneLine(e));
    }
}
