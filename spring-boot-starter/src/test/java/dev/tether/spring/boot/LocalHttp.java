package dev.tether.spring.boot;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.time.Duration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.reactive.function.client.WebClient;

/** Requests to a test application on its local port: a body within 10 s, or every thread's stack in the report. */
final class LocalHttp {

    private LocalHttp() {
    }

    /**
     * @param ctx a running application with {@code server.port=0} and {@code server.address=127.0.0.1}
     * @return a client of that application's HTTP server
     */
    static WebClient of(ConfigurableApplicationContext ctx) {
        return WebClient.create("http://127.0.0.1:" + ctx.getEnvironment().getProperty("local.server.port"));
    }

    /**
     * @param http the application's client
     * @param path the path to get
     * @return the body, empty when there is none, whatever the status
     * @throws IllegalStateException when no answer came in 10 s (after printing every thread's stack)
     */
    static String get(WebClient http, String path) {
        try {
            String body = http.get().uri(path).exchangeToMono(r -> r.bodyToMono(String.class).defaultIfEmpty(""))
                    .block(Duration.ofSeconds(10));
            return body == null ? "" : body;
        } catch (IllegalStateException e) {
            // A request that got no answer in 10 s: what every thread was doing, for the report.
            StringBuilder dump = new StringBuilder("no answer to GET " + path + " in 10 s; threads:\n");
            for (ThreadInfo t : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
                dump.append(t.getThreadName()).append(' ').append(t.getThreadState()).append('\n');
                for (StackTraceElement f : t.getStackTrace()) {
                    dump.append("    at ").append(f).append('\n');
                }
            }
            System.out.println(dump);
            throw e;
        }
    }
}
