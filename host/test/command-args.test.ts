/**
 * `qntx <plugin> <command>` word splitting (parseArgs underneath): every form the CLI promises,
 * and the usage errors that name the flag. The end-to-end exit codes are in commands.test.ts.
 */
import { describe, expect, it } from "@jest/globals";
import type { CommandInfo } from "@qntx/protocol";
import { CommandUsageError, parseCommandArgs } from "../src/cli/command-args.js";

const greet: CommandInfo = {
  name: "greet",
  description: "",
  usage: "",
  readsStdin: false,
  flags: [
    { name: "shout", description: "", takesValue: false, defaultValue: "", short: "s" },
    { name: "times", description: "", takesValue: true, defaultValue: "1", short: "t" },
    { name: "no-cache", description: "", takesValue: false, defaultValue: "", short: "" },
    { name: "wide", description: "", takesValue: false, defaultValue: "", short: "xy" },
  ],
};

const parse = (...words: string[]) => parseCommandArgs(words, greet);

describe("parseCommandArgs", () => {
  it("reads long, short, inline and spaced values, switches and their negation", () => {
    expect(parse("Ada", "-s", "--times=2", "Lovelace")).toEqual({ args: ["Ada", "Lovelace"], flags: { shout: "true", times: "2" }, help: false });
    expect(parse("--times", "3", "-t", "4")).toMatchObject({ flags: { times: "4" } });
    expect(parse("-t5")).toMatchObject({ flags: { times: "5" } });
    expect(parse("--shout", "--no-shout")).toMatchObject({ flags: { shout: "false" } });
    expect(parse("--no-cache")).toMatchObject({ flags: { "no-cache": "true" } });
    expect(parse("--shout=loud")).toMatchObject({ flags: { shout: "loud" } });
    expect(parse("--wide")).toMatchObject({ flags: { wide: "true" } });
  });

  it("keeps -, negative numbers and everything after -- as arguments, in order", () => {
    expect(parse("a", "-", "-5", "-1.5", "b", "--", "--shout", "-s")).toEqual({ args: ["a", "-", "-5", "-1.5", "b", "--shout", "-s"], flags: {}, help: false });
    expect(parse("--times", "-5")).toMatchObject({ args: [], flags: { times: "-5" } });
  });

  it("asks for help with --help or -h anywhere", () => {
    expect(parse("x", "--help").help).toBe(true);
    expect(parse("-h", "--times", "2").help).toBe(true);
  });

  it("names an undeclared flag, with the declared ones", () => {
    const tail = '(flags: --shout, --times, --no-cache, --wide); put arguments that start with "-" after --';
    expect(() => parse("--loud")).toThrow(new CommandUsageError(`greet: unknown flag --loud ${tail}`));
    expect(() => parse("--no-times")).toThrow(`unknown flag --no-times ${tail}`);
    expect(() => parse("-q")).toThrow(`unknown flag -q ${tail}`);
    expect(() => parse("-sq")).toThrow(`unknown flag -q (in -sq) ${tail}`);
    expect(() => parseCommandArgs(["--x"], { ...greet, flags: [] })).toThrow("greet: unknown flag --x (flags: none)");
  });

  it("refuses a value flag without its value", () => {
    expect(() => parse("--times")).toThrow("greet: --times needs a value (--times <value> or --times=<value>)");
    expect(() => parse("a", "-t")).toThrow("greet: --times needs a value");
  });
});
