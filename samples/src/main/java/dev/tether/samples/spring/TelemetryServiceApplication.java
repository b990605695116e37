package dev.tether.samples.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The telemetry service. Run it with {@code ./tether service}: with no settings it starts an
 * embedded MQTT broker that checks JWTs, subscribes to {@code telemetry/#} through Tether, and
 * serves {@code GET /lifecycle} and {@code GET /telemetry} (Server-Sent Events),
 * {@code /actuator/health} (with the MQTT connection's health) and a WebSocket endpoint on
 * {@code tether.ws.port} that streams the telemetry.
 */
@SpringBootApplication
public class TelemetryServiceApplication {

    /**
     * @param args Spring Boot arguments, e.g. {@code --tether.mqtt.uri=tcp://broker:1883}
     */
    public static void main(String[] args) {
        SpringApplication.run(TelemetryServiceApplication.class, args);
    }
}
