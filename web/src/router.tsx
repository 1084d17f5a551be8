// Every dashboard URL, typed: paths, params and search params are checked by TypeScript wherever a
// Link or navigate names them. Pages are split into their own chunks (lazyRouteComponent) so the first
// load carries only the shell; a route's loader starts its queries while its chunk downloads.
import {
  createRootRouteWithContext,
  createRoute,
  createRouter,
  lazyRouteComponent,
  notFound,
  redirect,
} from "@tanstack/react-router";
import type { QueryClient } from "@tanstack/react-query";
import type { Session } from "@supabase/supabase-js";
import { billingQueries } from "./billing/queries.ts";
import { parseBillingSearch } from "./billing/search.ts";
import { businessQueries } from "./businesses/queries.ts";
import { emailQueries } from "./email/queries.ts";
import { pickMembership } from "./businesses/selection.ts";
import type { Db } from "./lib/db.ts";
import { leadQueries } from "./leads/queries.ts";
import { parseLeadsSearch } from "./leads/search.ts";
import { parseSignInSearch } from "./auth/search.ts";
import { parseJoinSearch } from "./team/search.ts";
import { parseReportsSearch } from "./reports/search.ts";
import { parseWelcomeSearch } from "./onboarding/search.ts";
import { AppShell } from "./shell/AppShell.tsx";
import { NotFoundCard, NotFoundPage, RouteError } from "./shell/RouteStates.tsx";
import { Loading } from "./ui/States.tsx";

export interface RouterContext {
  db: Db;
  queryClient: QueryClient;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const rootRoute = createRootRouteWithContext<RouterContext>()({
  notFoundComponent: NotFoundPage,
});

const signInRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/sign-in",
  validateSearch: parseSignInSearch,
  beforeLoad: async ({ context, search }) => {
    const { data } = await context.db.auth.getSession();
    if (data.session) throw redirect({ href: search.redirect ?? "/" });
  },
  component: lazyRouteComponent(() => import("./auth/SignIn.tsx"), "SignIn"),
});

/** Signed-out pages: a signed-in visitor goes to the dashboard instead. */
async function signedOutOnly({ context }: { context: RouterContext }) {
  const { data } = await context.db.auth.getSession();
  if (data.session) throw redirect({ to: "/" });
}

const signUpRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/sign-up",
  beforeLoad: signedOutOnly,
  component: lazyRouteComponent(() => import("./auth/SignUp.tsx"), "SignUp"),
});

const forgotPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/forgot-password",
  beforeLoad: signedOutOnly,
  component: lazyRouteComponent(() => import("./auth/ForgotPassword.tsx"), "ForgotPassword"),
});

/** Where mail links land (confirmation, magic link): signed in or not, the page finishes the link. */
const confirmRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/auth/confirm",
  component: lazyRouteComponent(() => import("./auth/Confirm.tsx"), "Confirm"),
});

const resetPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/auth/reset",
  component: lazyRouteComponent(() => import("./auth/ResetPassword.tsx"), "ResetPassword"),
});

/** The setup wizard: signed in, outside the shell (which needs a business to show). */
const welcomeRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/welcome",
  validateSearch: parseWelcomeSearch,
  beforeLoad: async ({ context, location }): Promise<{ session: Session }> => {
    const { data } = await context.db.auth.getSession();
    if (!data.session) throw redirect({ to: "/sign-in", search: { redirect: location.href } });
    return { session: data.session };
  },
  component: lazyRouteComponent(() => import("./onboarding/Wizard.tsx"), "Wizard"),
});

/** Everything behind sign-in: the shell (navigation, business, realtime) around the pages. */
const appRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: "app",
  beforeLoad: async ({ context, location }): Promise<{ session: Session }> => {
    const { data } = await context.db.auth.getSession();
    if (!data.session) {
      throw redirect({ to: "/sign-in", search: location.href === "/" ? {} : { redirect: location.href } });
    }
    return { session: data.session };
  },
  component: AppShell,
});

/** Starts loading the signed-in user's business (and what `then` needs of it) without blocking. */
function prefetchForBusiness(context: RouterContext & { session: Session }, then: (businessId: string) => Promise<unknown>[]) {
  void context.queryClient
    .ensureQueryData(businessQueries.memberships(context.db, context.session.user.id))
    .then((memberships) => {
      const membership = pickMembership(memberships);
      return membership ? Promise.all(then(membership.business.id)) : null;
    })
    .catch(() => undefined); // the page shows the error from its own query
}

const leadsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/",
  validateSearch: parseLeadsSearch,
  loaderDeps: ({ search }) => ({ search }),
  loader: ({ context, deps }) => {
    prefetchForBusiness(context, (businessId) => [
      context.queryClient.prefetchQuery(leadQueries.list(context.db, businessId, deps.search)),
      context.queryClient.prefetchQuery(leadQueries.counts(context.db, businessId)),
    ]);
  },
  component: lazyRouteComponent(() => import("./leads/LeadsList.tsx"), "LeadsList"),
});

/** The old address of the list. */
const leadsAliasRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/leads",
  beforeLoad: () => {
    throw redirect({ to: "/" });
  },
});

const leadRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/leads/$leadId",
  params: {
    parse: ({ leadId }) => ({ leadId: leadId.toLowerCase() }),
    stringify: ({ leadId }) => ({ leadId }),
  },
  loader: ({ context, params }) => {
    if (!UUID.test(params.leadId)) throw notFound();
    void context.queryClient.prefetchQuery(leadQueries.detail(context.db, params.leadId));
    void context.queryClient.prefetchQuery(leadQueries.conversation(context.db, params.leadId));
  },
  component: lazyRouteComponent(() => import("./leads/LeadDetail.tsx"), "LeadDetail"),
  notFoundComponent: () => <NotFoundCard what="lead" />,
});

/** Texts from phones that are no lead of the business. */
const otherTextsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/other-texts",
  component: lazyRouteComponent(() => import("./leads/OtherTexts.tsx"), "OtherTexts"),
});

const settingsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/settings",
  component: lazyRouteComponent(() => import("./settings/SettingsPage.tsx"), "SettingsPage"),
});

/** Each member's own email alerts; the footer of every email links here. */
const emailRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/settings/email",
  loader: ({ context }) => {
    void context.queryClient.prefetchQuery(emailQueries.preferences(context.db, context.session.user.id));
  },
  component: lazyRouteComponent(() => import("./email/EmailPreferencesPage.tsx"), "EmailPreferencesPage"),
});

/**
 * Numbers of a period: leads per day, speed to lead, per source. No loader: the page's chunk brings its
 * own query (and uPlot after it), which keeps the report's code out of every page's first load.
 */
const reportsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/reports",
  validateSearch: parseReportsSearch,
  component: lazyRouteComponent(() => import("./reports/ReportsPage.tsx"), "ReportsPage"),
});

/** Plan, usage and payment (owners act, staff read); Stripe's Checkout and portal come back here. */
const billingRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/billing",
  validateSearch: parseBillingSearch,
  loader: ({ context }) => {
    void context.queryClient.prefetchQuery(billingQueries.plans(context.db));
    prefetchForBusiness(context, (businessId) => [context.queryClient.prefetchQuery(billingQueries.subscription(context.db, businessId))]);
  },
  component: lazyRouteComponent(() => import("./billing/BillingPage.tsx"), "BillingPage"),
});

const webhooksRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/settings/webhooks",
  component: lazyRouteComponent(() => import("./webhooks/WebhooksPage.tsx"), "WebhooksPage"),
});

/** Owners manage the team; staff see it. */
const teamRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/team",
  component: lazyRouteComponent(() => import("./team/TeamPage.tsx"), "TeamPage"),
});

/** The invitation link: outside the shell, since the invitee belongs to no business yet. Signed in first. */
const joinRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/join",
  validateSearch: parseJoinSearch,
  beforeLoad: async ({ context, location }): Promise<{ session: Session }> => {
    const { data } = await context.db.auth.getSession();
    if (!data.session) throw redirect({ to: "/sign-in", search: { redirect: location.href } });
    return { session: data.session };
  },
  component: lazyRouteComponent(() => import("./team/AcceptInvitation.tsx"), "AcceptInvitation"),
});

/** The business's website forms (widgets) and their install snippets. */
const widgetsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/widgets",
  loader: ({ context }) => {
    // The queries module comes with the page's chunk, not the first load.
    prefetchForBusiness(context, (businessId) => [
      import("./widgets/queries.ts").then(({ widgetQueries }) => context.queryClient.prefetchQuery(widgetQueries.list(context.db, businessId))),
    ]);
  },
  component: lazyRouteComponent(() => import("./widgets/WidgetsPage.tsx"), "WidgetsPage"),
});

export const routeTree = rootRoute.addChildren([
  signInRoute,
  joinRoute,
  signUpRoute,
  forgotPasswordRoute,
  confirmRoute,
  resetPasswordRoute,
  welcomeRoute,
  appRoute.addChildren([leadsRoute, leadsAliasRoute, leadRoute, otherTextsRoute, reportsRoute, settingsRoute, emailRoute, billingRoute, teamRoute, webhooksRoute, widgetsRoute]),
]);

export function createAppRouter(context: RouterContext) {
  return createRouter({
    routeTree,
    context,
    // Hovering or focusing a link fetches that page's code and data before the click.
    defaultPreload: "intent",
    // react-query owns freshness (realtime invalidation); the router must not cache loader results.
    defaultPreloadStaleTime: 0,
    defaultPendingComponent: () => <Loading what="the page" />,
    defaultErrorComponent: RouteError,
    scrollRestoration: true,
  });
}

declare module "@tanstack/react-router" {
  interface Register {
    router: ReturnType<typeof createAppRouter>;
  }
}
