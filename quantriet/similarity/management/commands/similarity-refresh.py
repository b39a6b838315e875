"""``quantriet similarity-refresh CAMPAIGN [--rebuild]``: take the campaign's common
phrases and frequent runs again from a sample of its submissions, and in a large campaign
its crowded keys from the index (a new generation), and
fingerprint the reports already indexed again -- in the background, or here with
``--rebuild`` (also resumes a rebuild that stopped)."""

from django.core.management.base import BaseCommand, CommandError

from quantriet.campaigns.models import Campaign
from quantriet.similarity import services
from quantriet.similarity.models import PhraseSet


class Command(BaseCommand):
    help = "Take a campaign's phrase sets for copy detection again and re-index its reports."

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="short name (slug) of the campaign")
        parser.add_argument("--rebuild", action="store_true",
                            help="fingerprint the indexed reports again in this process "
                                 "(without --resume: after taking a new set)")
        parser.add_argument("--resume", action="store_true",
                            help="take no new set; finish the latest set's rebuild")

    def handle(self, *args, campaign, rebuild=False, resume=False, **options):
        found = Campaign.objects.filter(slug=campaign).first()
        if found is None:
            raise CommandError(f"no campaign {campaign!r}")
        if resume:
            latest = PhraseSet.objects.filter(campaign=found).order_by("-generation").first()
            if latest is None:
                raise CommandError("the campaign has no phrase set yet")
            generation = latest.generation
        else:
            made = services.refresh(found)
            assert made is not None
            state = services.phrases(found)
            generation = made.generation
            self.stdout.write(
                f"{found.slug}: generation {generation} from {made.sample} report(s): "
                f"{len(state.ignore)} run(s) left out of the keys "
                f"({len(services.unpack(made.crowded))} of them crowded), "
                f"{len(state.common)} common phrase(s)")
        if rebuild or resume:
            services.rebuild(found, generation)
            self.stdout.write(f"{found.slug}: keys of generation {generation} rebuilt")
        else:
            self.stdout.write("the indexed reports are fingerprinted again by the task worker")
