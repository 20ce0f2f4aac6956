/**
 * Plays a scenario's events (issue #19) on the world while its message is
 * followed: each event's changes are made right after the attempt it names,
 * and afterwards whatever a scenario must not leave behind (a stopped
 * Postfix, a resolver that is down) is put back.
 */
import { applyDnsChange, describeEvent, type ProviderChange, type ScenarioEvent } from "../scenario/events.js";
import type { DnsSettings, Role, Scenario, WireMode } from "../scenario/types.js";
import { providerSettings } from "../world/scenarioState.js";
import type { MailWorld } from "../world/world.js";

export class EventPlayer {
  private readonly events: readonly ScenarioEvent[];
  private next = 0;
  private dns: DnsSettings;
  private mode: WireMode;
  private readonly changedSettings: Record<Role, Record<string, string>> = { sender: {}, receiver: {} };

  constructor(
    private readonly world: MailWorld,
    private readonly scenario: Scenario,
  ) {
    this.events = scenario.events ?? [];
    this.dns = scenario.dns;
    this.mode = scenario.wire;
  }

  get hasEvents(): boolean {
    return this.events.length > 0;
  }

  /** The wire's mode now (the scenario's, or the last wire event's). */
  get wireMode(): WireMode {
    return this.mode;
  }

  /** Apply, in order, every event that comes after `attempt`; returns what changed, in words. */
  async applyAfter(attempt: number): Promise<string[]> {
    const words: string[] = [];
    while (this.next < this.events.length && this.events[this.next]!.after <= attempt) {
      words.push(...(await this.apply(this.events[this.next++]!)));
    }
    return words;
  }

  /** The events whose turn never came (the message settled first), in words. */
  notApplied(): string[] {
    return this.events.slice(this.next).flatMap((event) => describeEvent(event).map((words) => `after attempt ${event.after}: ${words}`));
  }

  /**
   * Start what the events stopped, so the next scenario meets a running
   * world; DNS, certificates and settings are the next scenario's to set.
   */
  async restore(): Promise<void> {
    if (!this.world.dns.resolverRunning) await this.world.dns.resolverUp();
    const receiver = this.world.receiver;
    if (receiver.mta === "postfix" && !receiver.postfixRunning) await receiver.startPostfix();
  }

  /** Apply one event now, whatever its `after` (the soak fires its own); returns what changed, in words. */
  async apply(event: ScenarioEvent): Promise<string[]> {
    if (event.resolver === "down") await this.world.dns.resolverDown();
    else if (event.resolver === "up") await this.world.dns.resolverUp();
    if (event.dns) {
      this.dns = applyDnsChange(this.dns, event.dns);
      await this.world.publishDns(this.dns);
    }
    if (event.sender === "restart") await this.world.postfix("sender", "a sender restart event").restartPostfix();
    else if (event.sender) await this.changeProvider("sender", event.sender);
    if (event.receiver === "stop") {
      await this.world.postfix("receiver", "a receiver stop event").stopPostfix();
    } else if (event.receiver === "start") {
      await this.world.postfix("receiver", "a receiver start event").startPostfix();
    } else if (event.receiver === "restart") {
      await this.world.postfix("receiver", "a receiver restart event").restartPostfix();
    } else if (event.receiver) {
      await this.changeProvider("receiver", event.receiver);
    }
    if (event.wire) {
      await this.world.wire.changeMode(event.wire);
      this.mode = event.wire;
    }
    return describeEvent(event);
  }

  private async changeProvider(role: Role, change: ProviderChange): Promise<void> {
    const provider = this.world.provider(role);
    if (change.certificate || change.certificateKey) {
      const presented = provider.presentedCertificate;
      await provider.presentCertificate(change.certificate ?? presented.variant, change.certificateKey ?? presented.key, {
        chainWithCa: role === "receiver" && this.dns.tlsa === "ca",
      });
    }
    if (change.postconf) {
      this.changedSettings[role] = { ...this.changedSettings[role], ...change.postconf };
      await this.world.postfix(role, `a postconf change event on the ${role}`).applySettings(providerSettings(this.world, this.scenario, role, this.changedSettings[role]), { keepQueue: true });
    }
  }
}
