// JobTriggers (reference §2.3): one pure function per message family, turning an envelope into the
// trigger data dict that trigger_rules.yml matches on and substitutes from. The field names are the
// original's contract with its rule files (`message_type`, `item`, `item_type`, `name`, `tag`,
// `namespace`, `repo`, `repo_name`, `distgit_branch`, `critpath_pkgs`), so the real rules work.
// The topic → message type mapping is reconstructed (the trigger's source is lost): see docs/ingest.md.
import type { Envelope } from '../bus/envelope.js';

export const MESSAGE_TYPES = [
  'KojiBuildPackageCompleted',
  'KojiBuildDockerCompleted',
  'KojiTagChanged',
  'DistGitCommit',
  'ModuleBuildComplete',
  'AtomicCompose',
  'CloudCompose',
  'GitHubPullRequestOpened',
  'PagureGitReceive',
] as const;
export type MessageTypeName = (typeof MESSAGE_TYPES)[number];

/** What rules see. Values are JSON: strings mostly, `critpath_pkgs` a list. */
export interface TriggerData {
  message_type: MessageTypeName;
  item: string;
  item_type: string;
  [field: string]: unknown;
}

export type TriggerOutcome = { data: TriggerData } | { ignored: string };

export interface TriggerContext {
  /** Critical-path package names (trigger.cfg `critpath_filepath`), feeds `${critpath_pkgs}`. */
  critpathPkgs?: readonly string[];
  /** The Fedora release number rawhide currently is, so `fc<N>` maps to dist-git `master`. */
  rawhideRelease?: number;
}

export interface JobTrigger {
  /** The topic after `<prefix>.<environment>.`, e.g. `buildsys.build.state.change`. */
  topic: string;
  messageTypes: readonly MessageTypeName[];
  derive(envelope: Envelope, context: TriggerContext): TriggerOutcome;
}

const TOPIC = /^(?:org\.fedoraproject|io\.pagure)\.[A-Za-z0-9_-]+\.(.+)$/;

/** `buildsys.tag` for `org.fedoraproject.prod.buildsys.tag`. */
export function topicSuffix(topic: string): string | undefined {
  return TOPIC.exec(topic)?.[1];
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const obj = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
const ignored = (why: string): TriggerOutcome => ({ ignored: why });

const NO_PACKAGES: readonly string[] = Object.freeze([]);
const frozenCritpaths = new WeakMap<readonly string[], readonly string[]>();

/**
 * One frozen copy of the critical-path list shared by every build's data: the list has thousands
 * of names, and copying it per message cost time and, for every message held until its start,
 * memory. Frozen, so no consumer can change what the next message sees.
 */
function frozenCritpath(list: readonly string[] | undefined): readonly string[] {
  if (!list || list.length === 0) return NO_PACKAGES;
  let frozen = frozenCritpaths.get(list);
  if (!frozen) {
    frozen = Object.isFrozen(list) ? list : Object.freeze([...list]);
    frozenCritpaths.set(list, frozen);
  }
  return frozen;
}

const KOJI_STATES = ['BUILDING', 'COMPLETE', 'DELETED', 'FAILED', 'CANCELED'];

/** The dist-git branch a build's dist tag belongs to: `1.fc25` → `f25`, `1.el7` → `epel7`. */
export function distgitBranch(release: string, rawhideRelease?: number): string {
  const fc = /\.fc(\d+)(?:\.|$|_)/.exec(release);
  if (fc) return rawhideRelease !== undefined && Number(fc[1]) >= rawhideRelease ? 'master' : `f${fc[1]}`;
  const el = /\.el(\d+)(?:\.|$|_)/.exec(release);
  if (el) return Number(el[1]) >= 7 ? `epel${el[1]}` : `el${el[1]}`;
  return 'master';
}

function isContainerBuild(msg: Record<string, unknown>): boolean {
  const request = Array.isArray(msg.request) ? msg.request : [];
  const scm = str(request[0]) ?? '';
  // OSBS builds come from dist-git's container namespace (docker/ before 2017) and are owned by it.
  return /\/(?:container|docker)\/[^/]+$|\/(?:container|docker)\/[^/?#]+[?#]/.test(scm) || msg.owner === 'containerbuild';
}

const kojiBuild: JobTrigger = {
  topic: 'buildsys.build.state.change',
  messageTypes: ['KojiBuildPackageCompleted', 'KojiBuildDockerCompleted'],
  derive({ msg }, context) {
    if (msg.new !== 1) {
      const state = typeof msg.new === 'number' ? (KOJI_STATES[msg.new] ?? String(msg.new)) : String(msg.new);
      return ignored(`build state ${state} is not COMPLETE`);
    }
    const instance = str(msg.instance) ?? 'primary';
    if (instance !== 'primary') return ignored(`build from the '${instance}' Koji instance, not primary`);
    const name = str(msg.name);
    const version = str(msg.version);
    const release = str(msg.release);
    if (!name || !version || !release) return ignored('build message without name, version and release');
    const container = isContainerBuild(msg);
    // Assigned field by field, not spread: this runs for every Koji build on the bus.
    const data: TriggerData = {
      message_type: container ? 'KojiBuildDockerCompleted' : 'KojiBuildPackageCompleted',
      item: `${name}-${version}-${release}`,
      item_type: 'koji_build',
      name,
      version,
      release,
    };
    if (typeof msg.epoch === 'number' || typeof msg.epoch === 'string') data.epoch = msg.epoch;
    if (typeof msg.build_id === 'number') data.build_id = msg.build_id;
    if (str(msg.owner)) data.owner = msg.owner;
    data.instance = instance;
    data.distgit_branch = distgitBranch(release, context.rawhideRelease);
    data.critpath_pkgs = frozenCritpath(context.critpathPkgs);
    return { data };
  },
};

const kojiTag: JobTrigger = {
  topic: 'buildsys.tag',
  messageTypes: ['KojiTagChanged'],
  derive({ msg }) {
    const tag = str(msg.tag);
    if (!tag) return ignored('tag message without a tag');
    const instance = str(msg.instance) ?? 'primary';
    if (instance !== 'primary') return ignored(`tag change on the '${instance}' Koji instance, not primary`);
    const nvr = str(msg.name) && str(msg.version) && str(msg.release) ? `${String(msg.name)}-${String(msg.version)}-${String(msg.release)}` : undefined;
    return {
      data: {
        message_type: 'KojiTagChanged',
        item: tag,
        item_type: 'koji_tag',
        tag,
        ...(str(msg.name) ? { name: msg.name } : {}),
        ...(nvr ? { nvr } : {}),
      },
    };
  },
};

const distGit: JobTrigger = {
  topic: 'git.receive',
  messageTypes: ['DistGitCommit'],
  derive({ msg }) {
    const commit = obj(msg.commit);
    const repo = str(commit?.repo);
    const rev = str(commit?.rev);
    if (!commit || !repo || !rev) return ignored('git.receive without commit.repo and commit.rev');
    // Before dist-git had namespaces (2017) every repository was a package.
    const namespace = str(commit.namespace) ?? 'rpms';
    const branch = str(commit.branch) ?? 'master';
    return {
      data: {
        message_type: 'DistGitCommit',
        item: `${namespace}/${repo}#${rev}`,
        item_type: 'dist_git_commit',
        namespace,
        repo,
        name: repo,
        branch,
        distgit_branch: branch,
        rev,
      },
    };
  },
};

const moduleBuild: JobTrigger = {
  topic: 'mbs.module.state.change',
  messageTypes: ['ModuleBuildComplete'],
  derive({ msg }) {
    // MBS goes init → wait → build → done → ready; firing on `ready` alone gives one job per build.
    if (msg.state_name !== 'ready') return ignored(`module build state '${String(msg.state_name)}' is not 'ready'`);
    const name = str(msg.name);
    const stream = str(msg.stream);
    const version = str(msg.version) ?? (typeof msg.version === 'number' ? String(msg.version) : undefined);
    if (!name || !stream || !version) return ignored('module message without name, stream and version');
    return {
      data: {
        message_type: 'ModuleBuildComplete',
        item: `${name}-${stream}-${version}`,
        item_type: 'module_build',
        name,
        stream,
        version,
        ...(typeof msg.id === 'number' ? { module_build_id: msg.id } : {}),
      },
    };
  },
};

const compose: JobTrigger = {
  topic: 'pungi.compose.status.change',
  messageTypes: ['AtomicCompose', 'CloudCompose'],
  derive({ msg }) {
    const status = str(msg.status) ?? '';
    if (status !== 'FINISHED' && status !== 'FINISHED_INCOMPLETE') return ignored(`compose status '${status}' is not FINISHED`);
    const location = str(msg.location);
    const composeId = str(msg.compose_id);
    if (!location || !composeId) return ignored('compose message without location and compose_id');
    // Atomic composes are their own flavour; every other Fedora compose carries the cloud images.
    const messageType: MessageTypeName = /-Atomic(?:Host)?-/i.test(composeId) ? 'AtomicCompose' : 'CloudCompose';
    return {
      data: { message_type: messageType, item: location, item_type: 'compose', compose_id: composeId, compose_status: status },
    };
  },
};

const githubPr: JobTrigger = {
  topic: 'github.pull_request.opened',
  messageTypes: ['GitHubPullRequestOpened'],
  derive({ msg }) {
    const pr = obj(msg.pull_request);
    const repository = obj(msg.repository) ?? obj(obj(pr?.base)?.repo);
    const url = str(pr?.html_url);
    const repoName = str(repository?.full_name);
    if (!pr || !url || !repoName) return ignored('pull request message without pull_request.html_url and repository.full_name');
    return {
      data: {
        message_type: 'GitHubPullRequestOpened',
        item: url,
        item_type: 'pull_request',
        repo_name: repoName,
        ...(typeof pr.number === 'number' ? { number: pr.number } : {}),
        ...(str(obj(pr.base)?.ref) ? { branch: obj(pr.base)!.ref } : {}),
        ...(str(obj(pr.head)?.sha) ? { rev: obj(pr.head)!.sha } : {}),
      },
    };
  },
};

const pagure: JobTrigger = {
  topic: 'pagure.git.receive',
  messageTypes: ['PagureGitReceive'],
  derive({ topic, msg }) {
    const repo = obj(msg.repo);
    const name = str(repo?.fullname) ?? str(repo?.name);
    const commit = str(msg.end_commit);
    const branch = (str(msg.branch) ?? '').replace(/^refs\/heads\//, '');
    if (!repo || !name || !commit || !branch) return ignored('pagure.git.receive without repo, branch and end_commit');
    const namespace = str(repo.namespace);
    const fullName = repo.fullname ? name : namespace ? `${namespace}/${name}` : name;
    const server = topic.startsWith('io.pagure.') ? 'pagure.io' : 'src.fedoraproject.org';
    return {
      data: {
        message_type: 'PagureGitReceive',
        item: `${server}/${fullName}#${branch}#${commit}`,
        item_type: 'git_commit',
        repo: fullName,
        branch,
        rev: commit,
        ...(namespace ? { namespace } : {}),
      },
    };
  },
};

export const JOB_TRIGGERS: readonly JobTrigger[] = [kojiBuild, kojiTag, distGit, moduleBuild, compose, githubPr, pagure];

const byTopic = new Map(JOB_TRIGGERS.map((trigger) => [trigger.topic, trigger]));

// The bus carries a few hundred distinct topics: remembering each one's answer saves a regex per
// message. Bounded, since topics are sender data.
const triggerByFullTopic = new Map<string, JobTrigger | null>();

export function jobTriggerFor(topic: string): JobTrigger | undefined {
  const known = triggerByFullTopic.get(topic);
  if (known !== undefined) return known ?? undefined;
  const suffix = topicSuffix(topic);
  const trigger = suffix === undefined ? undefined : byTopic.get(suffix);
  if (triggerByFullTopic.size >= 4096) triggerByFullTopic.clear();
  triggerByFullTopic.set(topic, trigger ?? null);
  return trigger;
}

/** Whether any JobTrigger handles the topic: ingest's transports drop the others unparsed (decodeFrames). */
export function handlesTopic(topic: string): boolean {
  return jobTriggerFor(topic) !== undefined;
}

/** The trigger data for an envelope, or why there is none. `undefined` means no JobTrigger handles the topic. */
export function deriveTriggerData(envelope: Envelope, context: TriggerContext = {}): TriggerOutcome | undefined {
  return jobTriggerFor(envelope.topic)?.derive(envelope, context);
}
